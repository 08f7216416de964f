import { buildCorpus, sessionCount } from '../../src/baselines/corpus.js';
import type { CliIo } from '../../src/cli/command.js';
import type { ModelTrainer, TrainRequest, TrainResult } from '../../src/cli/trainers.js';
import { readSessions } from '../../src/data/index.js';
import { InvalidOptionError } from '../../src/errors.js';
import { createStderrLogger, noopLogger } from '../../src/instrumentation/typed-emitter.js';
import { readManifest } from '../../src/persistence/model-dir.js';
import { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';
import { loadModel } from '../../src/scoring/model-registry.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import { defaultBstRankerConfig, parseBstRankerParams, resolveBstRankerConfig } from './config.js';
import { saveBstRanker } from './io.js';
import { trainBstRanker } from './train.js';

const TWO_STAGE_KEYS = ['topM', 'candidateWeight', 'enabled'] as const;

/**
 * `nextclick train --model bst-ranker --candidates DIR`: trains the ranking stage on the log over the candidates
 * model's vocabulary (`--param candidates=DIR` is the same), and saves a directory that loads as the two-stage
 * pipeline. Two-stage options: `--param topM=100 candidateWeight=0`.
 */
export const bstRankerTrainer: ModelTrainer = {
  kind: 'bst-ranker',
  describe: `BST ranking stage over a candidates model (--candidates DIR); params: ${Object.entries(defaultBstRankerConfig).map(([k, v]) => `${k}=${String(v)}`).join(' ')} topM=100 candidateWeight=0`,
  async train(req: TrainRequest, io: CliIo): Promise<TrainResult> {
    const t0 = performance.now();
    const { candidates, ...rest } = req.params as Record<string, string>;
    const candidatesDir = (req as TrainRequest & { candidatesDir?: string }).candidatesDir ?? candidates;
    if (!candidatesDir) throw new InvalidOptionError('candidates', 'bst-ranker needs the first-stage model: --candidates DIR (a trained gru4rec or transformer directory)');
    await readManifest(candidatesDir);
    const vocabulary = await ItemVocabulary.load(`${candidatesDir}/vocabulary.json`);
    const twoStage: Record<string, number | boolean> = {};
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(rest)) {
      if ((TWO_STAGE_KEYS as readonly string[]).includes(k)) twoStage[k] = k === 'enabled' ? v === 'true' : Number(v);
      else params[k] = v;
    }
    // Parameters are checked before the training log is read or the backend loads.
    const config = resolveBstRankerConfig(parseBstRankerParams(params));
    const corpus = await buildCorpus(readSessions(req.trainPath, req.readOptions), { vocabulary });
    const first = await loadModel(candidatesDir);
    const table = firstStageItemTable(first.scorer);
    const result = await trainBstRanker(corpus, {
      config,
      candidates: first.scorer,
      ...(table && table.length === vocabulary.size * config.hiddenSize ? { initItemTable: table } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      logger: req.json ? noopLogger : createStderrLogger('info'),
      progress: !req.json,
      progressStream: io.stderr,
    });
    await first.scorer.dispose?.();
    const metrics = { trainSeconds: result.trainSeconds, epochs: result.epochs, backend: result.backend };
    await saveBstRanker(req.outDir, { params: result.params, vocabulary, candidatesDir, twoStage, metrics });
    return { kind: 'bst-ranker', outDir: req.outDir, itemCount: vocabulary.size, sessions: sessionCount(corpus), seconds: (performance.now() - t0) / 1000, metrics };
  },
};

/** The first stage's item embedding, when it exposes one (transformer, GRU4Rec params). */
export function firstStageItemTable(scorer: Scorer): Float32Array | undefined {
  const p = (scorer as { params?: { itemTable?: unknown } }).params;
  return p?.itemTable instanceof Float32Array ? p.itemTable : undefined;
}
