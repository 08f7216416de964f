import { readClickLog, type ClickLogFormat, type ClickLogOptions } from '../../data/index.js';
import { InvalidOptionError, NextclickError } from '../../errors.js';
import { CliUsageError, requiredString, stringOption, type CliCommand } from '../command.js';
import { claimOutputDir } from '../output-dir.js';
import { loadModelPackages, trainers } from '../trainers.js';

/** Parses repeated `--param key=value` options. */
export function parseParamList(raw: unknown): Record<string, string> {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const out: Record<string, string> = {};
  for (const p of list) {
    const s = String(p);
    const eq = s.indexOf('=');
    if (eq <= 0) throw new CliUsageError(`--param expects key=value, got "${s}"`);
    out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}

/** The log-reading options shared by train and evaluate: `--format` and `--skip-bad-lines`. */
export function logReadOptions(values: Record<string, unknown>, formatOption = 'format'): ClickLogOptions {
  return {
    format: (stringOption(values, formatOption) ?? 'tsv') as ClickLogFormat,
    onBadLine: values['skip-bad-lines'] === true ? 'skip' : 'error',
  };
}

/**
 * Fails with INVALID_INPUT when `path` holds no event (empty, header only, or every line bad and skipped), as
 * `prepare` does. Reads only up to the first event, so it also surfaces a bad first line before any model or
 * backend loads.
 */
export async function requireEvents(path: string, options: ClickLogOptions, role: string): Promise<void> {
  const log = readClickLog(path, options);
  for await (const batch of log.batches()) if (batch.length > 0) return;
  const skipped = log.stats.badLines > 0 ? ` (${log.stats.badLines} bad lines skipped)` : '';
  throw new NextclickError('INVALID_INPUT', `${role} ${path} holds no events${skipped}; check the file and --format`, { context: { file: path } });
}

const usageHead = `
nextclick train --train FILE --model KIND --out DIR [options]

  --train FILE        training log (sessions contiguous, e.g. a prepared train.tsv)
  --format NAME       log format: tsv (default), srgnn, yoochoose, diginetica, csv, jsonl, otto...
  --model KIND        model kind (below)
  --out DIR           model directory to write (model.json, vocabulary.json, data); an existing model
                      directory or file is refused unless --force
  --force             replace an existing --out (the old files are removed once the new model is saved)
  --param key=value   model hyper-parameter (repeatable), e.g. --param steps=10; checked before training
  --valid FILE        validation log (gru4rec, transformer: early stopping)
  --from DIR          continue training from a saved model (gru4rec: its vocabulary grows with new items;
                      transformer: same items, saved architecture, --param settings on top)
  --candidates DIR    first-stage model of a ranking stage (bst-ranker)
  --skip-bad-lines    skip and count unparsable lines instead of stopping at the first
  --json              print the result as one JSON object
`;

/** The kinds `--model` accepts, each with its parameters (loads the model packages to list them). */
async function modelKindsHelp(): Promise<string> {
  const failure = await loadModelPackages();
  const lines = ['Model kinds (--model) and their --param keys with defaults:'];
  for (const [kind, load] of Object.entries(trainers)) {
    const t = await load().catch((err: unknown) => ({ describe: `unavailable: ${(err as Error).message}` }));
    lines.push(`  ${kind.padEnd(12)} ${t.describe}`);
  }
  if (failure !== undefined) lines.push(`  (neural models unavailable: ${failure})`);
  return lines.join('\n');
}

export const command: CliCommand = {
  name: 'train',
  summary: 'train a model on a prepared log and save it to a directory',
  get usage() {
    return `${usageHead}  --model kinds: ${Object.keys(trainers).join(' | ')} (\`nextclick train --help\` lists their parameters)\n`;
  },
  async help() {
    return `${usageHead}\n${await modelKindsHelp()}\n`;
  },
  options: {
    train: { type: 'string' },
    format: { type: 'string' },
    model: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
    param: { type: 'string', multiple: true },
    valid: { type: 'string' },
    from: { type: 'string' },
    candidates: { type: 'string' },
    'skip-bad-lines': { type: 'boolean' },
  },
  async run(values, io) {
    const kind = requiredString(values, 'model');
    const trainPath = requiredString(values, 'train');
    const outDir = requiredString(values, 'out');
    const params = parseParamList(values['param']);
    if (!trainers[kind]) {
      const failure = await loadModelPackages();
      if (failure !== undefined && !trainers[kind]) throw new CliUsageError(`unknown model "${kind}" (${failure}); built in: ${Object.keys(trainers).join(', ')}`);
    }
    const load = trainers[kind];
    if (!load) throw new CliUsageError(`unknown model "${kind}"; choose one of ${Object.keys(trainers).join(', ')}`);
    const trainer = await load();
    const json = values['json'] === true;
    const readOptions = logReadOptions(values);
    const valid = stringOption(values, 'valid');
    const candidates = stringOption(values, 'candidates');
    // Inputs are checked before the output is touched: a bad --train never costs an existing model.
    await requireEvents(trainPath, readOptions, 'training log');
    if (valid !== undefined) await requireEvents(valid, readOptions, 'validation log');
    const claimed = await claimOutputDir(outDir, values['force'] === true);
    if (candidates !== undefined && claimed.replaces(candidates)) {
      // The ranking stage keeps the path of its first stage: it cannot live in the directory being replaced.
      await claimed.abandon();
      throw new InvalidOptionError('candidates', `--candidates ${candidates} is inside --out ${outDir}, which --force replaces; the ranking stage would point at a deleted model: choose another --out`);
    }
    const from = stringOption(values, 'from');
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      const result = await trainer.train({
        trainPath,
        readOptions,
        outDir,
        // A ranking stage's first-stage model travels as the `candidates` param (bst-ranker reads it).
        params: { ...params, ...(candidates !== undefined ? { candidates: claimed.relocate(candidates) } : {}) },
        ...(valid !== undefined ? { validPath: valid } : {}),
        // --from may point into the model being replaced (continue training in place with --force).
        ...(from !== undefined ? { fromDir: claimed.relocate(from) } : {}),
        json,
        signal: ac.signal,
      }, io);
      await claimed.commit();
      if (json) io.stdout.write(JSON.stringify({ ok: true, ...result }) + '\n');
      else io.stdout.write(`trained ${result.kind} on ${result.sessions ?? '?'} sessions, ${result.itemCount} items in ${result.seconds.toFixed(1)} s → ${result.outDir}\n`);
      return 0;
    } catch (err) {
      await claimed.abandon();
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
