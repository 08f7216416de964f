import { join } from 'node:path';
import { buildCorpus, sessionCount } from '../../src/baselines/corpus.js';
import type { CliIo } from '../../src/cli/command.js';
import type { ModelTrainer, TrainRequest, TrainResult } from '../../src/cli/trainers.js';
import { readSessions } from '../../src/data/index.js';
import { createStderrLogger, noopLogger } from '../../src/instrumentation/typed-emitter.js';
import { parseGru4RecParams, resolveGru4RecConfig, type Gru4RecConfig } from './config.js';
import { readGru4Rec, saveGru4Rec } from './io.js';
import { trainGru4Rec, type Gru4RecTrainResult } from './train.js';
import { trainingSummary } from '../training/epoch-loop.js';

const CHECKPOINT_DIR = 'checkpoint';

/** `nextclick train --model gru4rec`: reads the log, trains (or continues with --from), saves the directory. */
export const gru4recTrainer: ModelTrainer = {
  kind: 'gru4rec',
  describe: 'GRU4Rec (session-parallel, sampled BPR-max/CE, sparse Adagrad); params: layers=256 epochs=10 loss=bpr-max|cross-entropy nSample=2048 batchSize=128 learningRate=0.05 momentum=0.15 dropoutEmbedding=0.5 dropoutHidden=0.3 bpreg=0.9 sampleAlpha=0.3 logq=1 repeatBias=false validationFraction=0.05 seed=42 (hidden= is an alias of layers=)',
  async train(req: TrainRequest, io: CliIo): Promise<TrainResult> {
    const t0 = performance.now();
    const config: Partial<Gru4RecConfig> = parseGru4RecParams(Object.entries(req.params).map(([k, v]) => `${k}=${v}`));
    resolveGru4RecConfig(config); // parameters are checked before any file is read or the backend loads
    const base = req.fromDir !== undefined ? await readGru4Rec(req.fromDir) : undefined;
    const corpus = await buildCorpus(readSessions(req.trainPath, req.readOptions));
    let validation;
    if (req.validPath !== undefined) {
      const v = await buildCorpus(readSessions(req.validPath, req.readOptions), { vocabulary: base ? base.vocabulary : corpus.vocabulary });
      // With --from the trained vocabulary is the base one plus appended new items, so base indices stay valid.
      validation = { offsets: v.offsets, items: v.items };
    }
    const logger = req.json ? noopLogger : createStderrLogger('info');
    const result: Gru4RecTrainResult = await trainGru4Rec(corpus, {
      config: validation ? { ...config, validationFraction: 0 } : config,
      ...(validation ? { validation } : {}),
      ...(base ? { from: { params: base.params, vocabulary: base.vocabulary } } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      logger,
      progress: !req.json,
      progressStream: io.stderr,
      // A checkpoint per epoch, overwritten, so a killed run keeps its latest weights.
      onEpoch: async (m, params, vocabulary) => {
        await saveGru4Rec(join(req.outDir, CHECKPOINT_DIR), { params, config: params.config, vocabulary, metrics: { ...m } });
        return req.onEpoch?.(m);
      },
    });
    const metrics = trainingSummary(result);
    await saveGru4Rec(req.outDir, { ...result, metrics });
    return { kind: 'gru4rec', outDir: req.outDir, itemCount: result.vocabulary.size, sessions: sessionCount(corpus), seconds: (performance.now() - t0) / 1000, metrics };
  },
};

