import { CliUsageError, requiredString, stringOption, type CliCommand } from '../command.js';
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

export const command: CliCommand = {
  name: 'train',
  summary: 'train a model on a prepared log and save it to a directory',
  usage: `
nextclick train --train FILE --model KIND --out DIR [options]

  --train FILE        training log (sessions contiguous, e.g. a prepared train.tsv)
  --format NAME       log format: tsv (default), srgnn, yoochoose, diginetica, csv, jsonl, otto...
  --model KIND        ${Object.keys(trainers).join(' | ')}
  --out DIR           model directory to write (model.json, vocabulary.json, data)
  --param key=value   model hyper-parameter (repeatable), e.g. --param steps=10
  --valid FILE        validation log (models that use one)
  --from DIR          continue training from a saved model (models that support it)
  --candidates DIR    first-stage model of a ranking stage (bst-ranker)
  --json              print the result as one JSON object
`,
  options: {
    train: { type: 'string' },
    format: { type: 'string' },
    model: { type: 'string' },
    out: { type: 'string' },
    param: { type: 'string', multiple: true },
    valid: { type: 'string' },
    from: { type: 'string' },
    candidates: { type: 'string' },
  },
  async run(values, io) {
    const kind = requiredString(values, 'model');
    if (!trainers[kind]) {
      const failure = await loadModelPackages();
      if (failure !== undefined && !trainers[kind]) throw new CliUsageError(`unknown model "${kind}" (${failure}); built in: ${Object.keys(trainers).join(', ')}`);
    }
    const load = trainers[kind];
    if (!load) throw new CliUsageError(`unknown model "${kind}"; choose one of ${Object.keys(trainers).join(', ')}`);
    const trainer = await load();
    const json = values['json'] === true;
    const valid = stringOption(values, 'valid');
    const from = stringOption(values, 'from');
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      const result = await trainer.train({
        trainPath: requiredString(values, 'train'),
        format: stringOption(values, 'format') ?? 'tsv',
        outDir: requiredString(values, 'out'),
        // A ranking stage's first-stage model travels as the `candidates` param (bst-ranker reads it).
        params: { ...parseParamList(values['param']), ...(stringOption(values, 'candidates') !== undefined ? { candidates: stringOption(values, 'candidates')! } : {}) },
        ...(valid !== undefined ? { validPath: valid } : {}),
        ...(from !== undefined ? { fromDir: from } : {}),
        json,
        signal: ac.signal,
      }, io);
      if (json) io.stdout.write(JSON.stringify({ ok: true, ...result }) + '\n');
      else io.stdout.write(`trained ${result.kind} on ${result.sessions ?? '?'} sessions, ${result.itemCount} items in ${result.seconds.toFixed(1)} s → ${result.outDir}\n`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
