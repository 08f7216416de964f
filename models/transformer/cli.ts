import { join } from 'node:path';
import { buildCorpus, sessionCount } from '../../src/baselines/corpus.js';
import type { CliIo } from '../../src/cli/command.js';
import type { ModelTrainer, TrainRequest, TrainResult } from '../../src/cli/trainers.js';
import { readSessions } from '../../src/data/index.js';
import { InvalidOptionError } from '../../src/errors.js';
import { createStderrLogger, noopLogger } from '../../src/instrumentation/typed-emitter.js';
import { defaultTransformerConfig, parseTransformerParams, resolveTransformerConfig } from './config.js';
import { saveTransformer } from './io.js';
import { trainTransformer, type TransformerTrainResult } from './train.js';

const CHECKPOINT_DIR = 'checkpoint';

/** `nextclick train --model transformer`: reads the log, trains, saves the directory (a checkpoint per epoch). */
export const transformerTrainer: ModelTrainer = {
  kind: 'transformer',
  describe: `next-item transformer (causal self-attention, KV-cache inference); params: ${Object.entries(defaultTransformerConfig).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`,
  async train(req: TrainRequest, io: CliIo): Promise<TrainResult> {
    if (req.fromDir !== undefined) throw new InvalidOptionError('from', '--from is not supported by the transformer yet; train from scratch');
    const t0 = performance.now();
    const config = parseTransformerParams(req.params);
    resolveTransformerConfig(config); // parameters are checked before any file is read or the backend loads
    const corpus = await buildCorpus(readSessions(req.trainPath, req.readOptions));
    let validation;
    if (req.validPath !== undefined) {
      const v = await buildCorpus(readSessions(req.validPath, req.readOptions), { vocabulary: corpus.vocabulary });
      validation = { offsets: v.offsets, items: v.items };
    }
    const result: TransformerTrainResult = await trainTransformer(corpus, {
      config: validation ? { ...config, validationFraction: 0 } : config,
      ...(validation ? { validation } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      logger: req.json ? noopLogger : createStderrLogger('info'),
      progress: !req.json,
      progressStream: io.stderr,
      onEpoch: async (m, params) => {
        await saveTransformer(join(req.outDir, CHECKPOINT_DIR), { params, config: params.config, vocabulary: corpus.vocabulary, metrics: { ...m } });
      },
    });
    const metrics = summarize(result);
    await saveTransformer(req.outDir, { ...result, metrics });
    return { kind: 'transformer', outDir: req.outDir, itemCount: result.vocabulary.size, sessions: sessionCount(corpus), seconds: (performance.now() - t0) / 1000, metrics };
  },
};

export function summarize(r: TransformerTrainResult): Record<string, unknown> {
  const last = r.epochs[r.epochs.length - 1];
  const best = r.epochs.find((e) => e.epoch === r.bestEpoch);
  const events = r.epochs.reduce((n, e) => n + e.events, 0);
  const seconds = r.epochs.reduce((n, e) => n + e.seconds, 0);
  return {
    trainSeconds: r.trainSeconds,
    epochsRun: r.epochs.length,
    bestEpoch: r.bestEpoch,
    finalLoss: last?.loss,
    eventsPerSecond: seconds > 0 ? events / seconds : 0,
    ...(best?.validation ? { validationRecall20: best.validation.recall, validationMrr20: best.validation.mrr } : {}),
    backend: r.backend,
  };
}
