import { join } from 'node:path';
import { buildCorpus, sessionCount } from '../../src/baselines/corpus.js';
import type { CliIo } from '../../src/cli/command.js';
import type { ModelTrainer, TrainRequest, TrainResult } from '../../src/cli/trainers.js';
import { readSessions } from '../../src/data/index.js';
import { InvalidOptionError } from '../../src/errors.js';
import { createStderrLogger, noopLogger } from '../../src/instrumentation/typed-emitter.js';
import { defaultTransformerConfig, parseTransformerParams, resolveTransformerConfig, type TransformerConfig } from './config.js';
import { readTransformer, saveTransformer } from './io.js';
import { trainTransformer, type TransformerTrainResult } from './train.js';
import { trainingSummary } from '../training/epoch-loop.js';

const CHECKPOINT_DIR = 'checkpoint';

/** `nextclick train --model transformer`: reads the log, trains, saves the directory (a checkpoint per epoch). */
export const transformerTrainer: ModelTrainer = {
  kind: 'transformer',
  describe: `next-item transformer (causal self-attention, KV-cache inference); params: ${Object.entries(defaultTransformerConfig).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`,
  async train(req: TrainRequest, io: CliIo): Promise<TrainResult> {
    const t0 = performance.now();
    const params = parseTransformerParams(req.params);
    resolveTransformerConfig(params); // parameters are checked before any file is read or the backend loads
    const from = req.fromDir !== undefined ? await readTransformer(req.fromDir) : undefined;
    const config = from ? warmStartConfig(from.config, params) : params;
    // A warm start keeps the model's item set: the log's other items are left out.
    const corpus = await buildCorpus(readSessions(req.trainPath, req.readOptions), from ? { vocabulary: from.vocabulary } : {});
    let validation;
    if (req.validPath !== undefined) {
      const v = await buildCorpus(readSessions(req.validPath, req.readOptions), { vocabulary: corpus.vocabulary });
      validation = { offsets: v.offsets, items: v.items };
    }
    const result: TransformerTrainResult = await trainTransformer(corpus, {
      config: validation ? { ...config, validationFraction: 0 } : config,
      ...(from ? { initialWeights: from.params, continueFromEpoch: epochsTrained(from.manifest.metrics) } : {}),
      ...(validation ? { validation } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      logger: req.json ? noopLogger : createStderrLogger('info'),
      progress: !req.json,
      progressStream: io.stderr,
      onEpoch: async (m, params) => {
        await saveTransformer(join(req.outDir, CHECKPOINT_DIR), { params, config: params.config, vocabulary: corpus.vocabulary, metrics: { ...m } });
        return req.onEpoch?.(m);
      },
    });
    const metrics = trainingSummary(result);
    await saveTransformer(req.outDir, { ...result, metrics });
    return { kind: 'transformer', outDir: req.outDir, itemCount: result.vocabulary.size, sessions: sessionCount(corpus), seconds: (performance.now() - t0) / 1000, metrics };
  },
};

/** Settings that fix a weight's shape: a warm start (`--from`) cannot change them. */
const ARCHITECTURE = ['hiddenSize', 'heads', 'blocks', 'feedForwardSize', 'maxLength', 'timeBuckets'] as const;

/**
 * The configuration of a warm start: the saved model's, with the given parameters on top (e.g.
 * `transitionPrior=true` for the last epochs, a new learning rate). Changing an architecture setting is refused,
 * since the saved weights would no longer fit.
 */
function warmStartConfig(saved: TransformerConfig, params: Partial<TransformerConfig>): Partial<TransformerConfig> {
  for (const key of ARCHITECTURE) {
    if (params[key] !== undefined && params[key] !== saved[key]) throw new InvalidOptionError(key, `--from continues a model with ${key}=${String(saved[key])}; ${key}=${String(params[key])} would not fit its weights (train from scratch to change it)`);
  }
  return { ...saved, ...params };
}

/** Epochs the saved model has trained (its learning-rate schedule continues from there). */
function epochsTrained(metrics: Record<string, unknown> | undefined): number {
  const n = metrics?.['epochsRun'] ?? metrics?.['epoch'];
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
}

