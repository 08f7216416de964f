import { stat } from 'node:fs/promises';
import { buildCorpus } from '../../baselines/corpus.js';
import { baselineKinds, isBaselineKind, trainBaseline } from '../../baselines/index.js';
import { readClickLog, readSessions } from '../../data/index.js';
import { evaluateReplay, type EvaluationResult } from '../../eval/replay-evaluator.js';
import { NextclickError } from '../../errors.js';
import { formatEvaluation } from '../../eval/report.js';
import { loadModel, registeredModelKinds } from '../../scoring/model-registry.js';
import { readManifest } from '../../persistence/model-dir.js';
import type { Scorer } from '../../scoring/scorer.js';
import type { TiePolicy } from '../../scoring/top-k.js';
import type { ItemVocabulary } from '../../vocab/item-vocabulary.js';
import { CliUsageError, requiredString, stringOption, type CliCommand } from '../command.js';
import { loadModelPackages } from '../trainers.js';
import { logReadOptions, parseParamList, requireEvents } from './train.js';

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Parses `--k 1,5,10,20` (or one number). */
export function parseCutoffs(raw: string | undefined): number[] {
  if (raw === undefined) return [1, 5, 10, 20];
  const ks = raw.split(',').map((s) => Number(s.trim()));
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) throw new CliUsageError(`--k expects integers ≥ 1 separated by commas, got "${raw}"`);
  return ks;
}

const usage = `
nextclick evaluate --model DIR|KIND --test FILE [--train FILE] [options]

  --model DIR|KIND    a saved model directory of any kind (\`evaluate --help\` lists them), or a baseline kind (${baselineKinds.join(', ')}) trained now on --train
  --train FILE        training log: needed for KIND; for DIR it adds popularity-bias measures
  --test FILE         test log (sessions contiguous); after each event the next item of its session is predicted
  --format NAME       format of both logs: tsv (default), srgnn, yoochoose, ...
  --test-format NAME  format of the test log if it differs
  --k LIST            cut-offs, comma-separated (default 1,5,10,20)
  --tie POLICY        conservative (default) | average | optimistic: how ties with the target count
  --param key=value   hyper-parameter for a KIND trained on the fly (repeatable)
  --skip-bad-lines    skip and count unparsable lines instead of stopping at the first
  --quiet             no progress bar
  --json              print the result as one JSON object

A test log with no events, or whose next items are all unknown to the model, is an error (exit 2); when
more than half of them are unknown a warning says so.
`;

/** Share of test targets unknown to the model above which evaluate warns. */
const UNKNOWN_TARGETS_WARNING = 0.5;

export const command: CliCommand = {
  name: 'evaluate',
  summary: 'replay a test log through a model and report HR/MRR/NDCG@K',
  usage,
  async help() {
    await import('../../baselines/index.js');
    const failure = await loadModelPackages();
    return `${usage}\nSaved model kinds it loads (--model DIR): ${registeredModelKinds().join(', ')}${failure !== undefined ? ` (neural models unavailable: ${failure})` : ''}\n`;
  },
  options: {
    model: { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
    format: { type: 'string' },
    'test-format': { type: 'string' },
    k: { type: 'string' },
    tie: { type: 'string' },
    param: { type: 'string', multiple: true },
    'skip-bad-lines': { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
  async run(values, io) {
    const modelArg = requiredString(values, 'model');
    const testPath = requiredString(values, 'test');
    const trainPath = stringOption(values, 'train');
    const trainRead = logReadOptions(values);
    const testRead = logReadOptions(values, stringOption(values, 'test-format') !== undefined ? 'test-format' : 'format');
    const cutoffs = parseCutoffs(stringOption(values, 'k'));
    const tie = (stringOption(values, 'tie') ?? 'conservative') as TiePolicy;
    if (!['conservative', 'average', 'optimistic'].includes(tie)) throw new CliUsageError(`--tie must be conservative, average or optimistic, got "${tie}"`);
    const params = parseParamList(values['param']);
    const json = values['json'] === true;

    const modelIsDir = await isDirectory(modelArg);
    if (!modelIsDir && !isBaselineKind(modelArg)) {
      throw new CliUsageError(`--model "${modelArg}" is neither a model directory nor a baseline kind (${baselineKinds.join(', ')}); train a directory with \`nextclick train --out DIR\``);
    }
    if (!modelIsDir && trainPath === undefined) throw new CliUsageError(`--train is required to train "${modelArg}" on the fly (or pass a saved model directory)`);
    if (modelIsDir && Object.keys(params).length > 0) throw new CliUsageError('--param applies to a model trained on the fly, not to a saved directory');
    // Inputs are checked before any model loads (and its backend with it).
    await requireEvents(testPath, testRead, 'test log');
    if (trainPath !== undefined) await requireEvents(trainPath, trainRead, 'training log');

    let scorer: Scorer;
    let vocabulary: ItemVocabulary;
    let popularity: Float64Array | undefined;
    let label = modelArg;
    let trainSeconds: number | undefined;
    if (modelIsDir) {
      await import('../../baselines/index.js');
      const manifest = await readManifest(modelArg);
      if (!registeredModelKinds().includes(manifest.kind)) {
        const failure = await loadModelPackages();
        if (failure !== undefined && !json) io.stderr.write(`nextclick: ${failure}\n`);
      }
      const loaded = await loadModel(modelArg);
      scorer = loaded.scorer;
      vocabulary = loaded.vocabulary;
      label = `${manifest.kind} (${modelArg})`;
      if (trainPath !== undefined) popularity = (await buildCorpus(readSessions(trainPath, trainRead), { vocabulary })).itemCounts;
    } else if (isBaselineKind(modelArg) && trainPath !== undefined) {
      const t0 = performance.now();
      const corpus = await buildCorpus(readSessions(trainPath, trainRead));
      scorer = trainBaseline(modelArg, corpus, params);
      trainSeconds = (performance.now() - t0) / 1000;
      vocabulary = corpus.vocabulary;
      popularity = corpus.itemCounts;
    } else {
      throw new NextclickError('INTERNAL', `--model "${modelArg}" was checked above`); // narrows the types only
    }
    try {
      const result = await evaluateReplay(scorer, vocabulary, readClickLog(testPath, testRead), {
        cutoffs, tiePolicy: tie, label, progress: values['quiet'] !== true && !json,
        ...(popularity ? { popularity } : {}),
      });
      const warnings = overlapWarnings(result, testPath, modelArg);
      for (const w of warnings) io.stderr.write(`nextclick: warning: ${w}\n`);
      if (json) io.stdout.write(JSON.stringify({ ok: true, ...result, params, ...(trainSeconds !== undefined ? { trainSeconds } : {}), warnings }) + '\n');
      else io.stdout.write(formatEvaluation(result));
      return 0;
    } finally {
      await scorer.dispose?.();
    }
  },
};

/**
 * Checks that the test log and the model share items: none at all is an error (every metric would be a
 * meaningless zero); a majority of unknown next items is returned as a warning.
 */
export function overlapWarnings(r: EvaluationResult, testPath: string, model: string): string[] {
  const targets = r.predictions + r.skippedOovTargets;
  if (targets === 0) {
    throw new NextclickError('INVALID_INPUT', `test log ${testPath} has no next-item prediction to make: every session has a single event (are sessions contiguous, and is --format right?)`, { context: { file: testPath } });
  }
  if (r.predictions === 0) {
    throw new NextclickError('INVALID_INPUT', `test log ${testPath} shares no items with the model ${model}: all ${targets} next items are unknown to it, so every metric would be 0. Check that both come from the same dataset and id space (--format, prepare's output)`, { context: { file: testPath } });
  }
  const unknown = r.skippedOovTargets / targets;
  return unknown > UNKNOWN_TARGETS_WARNING
    ? [`${(unknown * 100).toFixed(1)}% of the test log's next items (${r.skippedOovTargets} of ${targets}) are unknown to the model and not counted; metrics cover the other ${r.predictions}`]
    : [];
}
