import { stat } from 'node:fs/promises';
import { buildCorpus } from '../../baselines/corpus.js';
import { baselineKinds, isBaselineKind, trainBaseline } from '../../baselines/index.js';
import { readClickLog, readSessions, type ClickLogFormat } from '../../data/index.js';
import { evaluateReplay } from '../../eval/replay-evaluator.js';
import { formatEvaluation } from '../../eval/report.js';
import { loadModel, registeredModelKinds } from '../../scoring/model-registry.js';
import { readManifest } from '../../persistence/model-dir.js';
import type { Scorer } from '../../scoring/scorer.js';
import type { TiePolicy } from '../../scoring/top-k.js';
import type { ItemVocabulary } from '../../vocab/item-vocabulary.js';
import { CliUsageError, requiredString, stringOption, type CliCommand } from '../command.js';
import { loadModelPackages } from '../trainers.js';
import { parseParamList } from './train.js';

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

export const command: CliCommand = {
  name: 'evaluate',
  summary: 'replay a test log through a model and report HR/MRR/NDCG@K',
  usage: `
nextclick evaluate --model DIR|KIND --test FILE [--train FILE] [options]

  --model DIR|KIND    a saved model directory, or a baseline kind (${baselineKinds.join(', ')}) trained now on --train
  --train FILE        training log: needed for KIND; for DIR it adds popularity-bias measures
  --test FILE         test log (sessions contiguous); after each event the next item of its session is predicted
  --format NAME       format of both logs: tsv (default), srgnn, yoochoose, ...
  --test-format NAME  format of the test log if it differs
  --k LIST            cut-offs, comma-separated (default 1,5,10,20)
  --tie POLICY        conservative (default) | average | optimistic: how ties with the target count
  --param key=value   hyper-parameter for a KIND trained on the fly (repeatable)
  --quiet             no progress bar
  --json              print the result as one JSON object
`,
  options: {
    model: { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
    format: { type: 'string' },
    'test-format': { type: 'string' },
    k: { type: 'string' },
    tie: { type: 'string' },
    param: { type: 'string', multiple: true },
    quiet: { type: 'boolean' },
  },
  async run(values, io) {
    const modelArg = requiredString(values, 'model');
    const testPath = requiredString(values, 'test');
    const trainPath = stringOption(values, 'train');
    const format = (stringOption(values, 'format') ?? 'tsv') as ClickLogFormat;
    const testFormat = (stringOption(values, 'test-format') ?? format) as ClickLogFormat;
    const cutoffs = parseCutoffs(stringOption(values, 'k'));
    const tie = (stringOption(values, 'tie') ?? 'conservative') as TiePolicy;
    if (!['conservative', 'average', 'optimistic'].includes(tie)) throw new CliUsageError(`--tie must be conservative, average or optimistic, got "${tie}"`);
    const params = parseParamList(values['param']);
    const json = values['json'] === true;

    let scorer: Scorer;
    let vocabulary: ItemVocabulary;
    let popularity: Float64Array | undefined;
    let label = modelArg;
    let trainSeconds: number | undefined;
    if (await isDirectory(modelArg)) {
      if (Object.keys(params).length > 0) throw new CliUsageError('--param applies to a model trained on the fly, not to a saved directory');
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
      if (trainPath !== undefined) popularity = (await buildCorpus(readSessions(trainPath, { format }), { vocabulary })).itemCounts;
    } else if (isBaselineKind(modelArg)) {
      if (trainPath === undefined) throw new CliUsageError(`--train is required to train "${modelArg}" on the fly (or pass a saved model directory)`);
      const t0 = performance.now();
      const corpus = await buildCorpus(readSessions(trainPath, { format }));
      scorer = trainBaseline(modelArg, corpus, params);
      trainSeconds = (performance.now() - t0) / 1000;
      vocabulary = corpus.vocabulary;
      popularity = corpus.itemCounts;
    } else {
      throw new CliUsageError(`--model "${modelArg}" is neither a model directory nor a baseline kind (${baselineKinds.join(', ')})`);
    }
    try {
      const result = await evaluateReplay(scorer, vocabulary, readClickLog(testPath, { format: testFormat }), {
        cutoffs, tiePolicy: tie, label, progress: values['quiet'] !== true && !json,
        ...(popularity ? { popularity } : {}),
      });
      if (json) io.stdout.write(JSON.stringify({ ok: true, ...result, params, ...(trainSeconds !== undefined ? { trainSeconds } : {}) }) + '\n');
      else io.stdout.write(formatEvaluation(result));
      return 0;
    } finally {
      await scorer.dispose?.();
    }
  },
};
