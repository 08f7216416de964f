import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { buildCorpus, ItemKnn, type SessionCorpus } from '../../../src/baselines/index.js';
import { loadModel } from '../../../src/scoring/model-registry.js';
import { newSessionState } from '../../../src/sessions/session-state.js';
import { generateSessions } from '../../../src/synthetic/index.js';
import { evaluateNextItem } from '../../../models/training/evaluate-next-item.js';
import type { SessionArrays } from '../../../models/training/session-batcher.js';
import { buildWindows, trainTransformer, type TransformerTrainResult } from '../../../models/transformer/train.js';
import { TransformerScorer } from '../../../models/transformer/scorer.js';
import { saveTransformer } from '../../../models/transformer/io.js';
import '../../../models/index.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';
import { expectValidationPass } from '../../helpers/validation-pass.js';

// readout 'last': this log's next item is fixed by the order of the last two, which the item-attention readout
// (a weighted sum of the session's items, the default, best on Diginetica) cannot express.
const tiny = { readout: 'last' as const, cosineTemperature: 0, hiddenSize: 32, heads: 2, blocks: 1, feedForwardSize: 64, maxLength: 10, nSample: 256, batchSize: 64, epochs: 6, learningRate: 0.005, dropoutEmbedding: 0.1, dropoutHidden: 0.1, validationFraction: 0, seed: 3 };

let corpus: SessionCorpus;
let test: SessionArrays;
let trained: TransformerTrainResult;

describe('transformer training', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    // Next item depends on the last two (second-order rule): first-order neighbours cannot fully capture it.
    const log = generateSessions({ items: 300, intents: 10, sessions: 2500, sequentialProbability: 0.8, seed: 5 });
    corpus = await buildCorpus(log.train);
    const t = await buildCorpus(log.test, { vocabulary: corpus.vocabulary });
    test = { offsets: t.offsets, items: t.items };
    trained = await trainTransformer(corpus, { config: tiny });
  }, HEAVY_TEST_TIMEOUT_MS);

  it('learns the synthetic second-order log better than item-kNN', async () => {
    const scorer = new TransformerScorer(trained.params);
    const mine = await evaluateNextItem(scorer, test);
    const knn = await evaluateNextItem(ItemKnn.train(corpus), test);
    scorer.dispose();
    expect(mine.predictions).toBe(knn.predictions);
    expect(mine.recall).toBeGreaterThan(knn.recall);
    expect(mine.mrr).toBeGreaterThan(knn.mrr);
    console.log(`synthetic: transformer Recall@20 ${mine.recall.toFixed(4)} MRR@20 ${mine.mrr.toFixed(4)}; item-kNN ${knn.recall.toFixed(4)} / ${knn.mrr.toFixed(4)}`);
  });

  it('is reproducible from the seed', async () => {
    const again = await trainTransformer(corpus, { config: { ...tiny, epochs: 1 } });
    const once = await trainTransformer(corpus, { config: { ...tiny, epochs: 1 } });
    expect(Array.from(again.params.itemTable.subarray(0, 64))).toEqual(Array.from(once.params.itemTable.subarray(0, 64)));
  });

  it('saves and loads a model that scores identically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nextclick-transformer-'));
    try {
      await saveTransformer(dir, trained);
      const loaded = await loadModel(dir);
      expect(loaded.manifest.kind).toBe('transformer');
      expect(loaded.vocabulary.size).toBe(corpus.vocabulary.size);
      const original = new TransformerScorer(trained.params);
      const a = [newSessionState('a', 0, 0), newSessionState('b', 0, 0)];
      const b = [newSessionState('a', 0, 0), newSessionState('b', 0, 0)];
      for (const [i, j] of [[1, 5], [2, 7], [3, 9]] as const) {
        a[0]!.items.push(i); a[1]!.items.push(j); b[0]!.items.push(i); b[1]!.items.push(j);
        await original.observe(a);
        await loaded.scorer.observe(b);
      }
      expect(Array.from(await loaded.scorer.score(b))).toEqual(Array.from(await original.score(a)));
      original.dispose();
      await loaded.scorer.dispose?.();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('trainOnValidation: after early stopping, one pass over the held-out sessions, and only over those', async () => {
    const config = { ...tiny, epochs: 2, validationFraction: 0.1, validationMaxEvents: 400 };
    await expectValidationPass(corpus, 0.1, 400, test, (on, validation) => trainTransformer(corpus, { config: { ...config, trainOnValidation: on }, ...(validation ? { validation } : {}) }), (r) => r.params.itemTable);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('cuts long sessions into consecutive windows that train every transition once', () => {
    const w = buildWindows({ offsets: Int32Array.of(0, 12, 13), items: Int32Array.from({ length: 13 }, (_, i) => i) }, 5);
    expect(w.map((x) => Array.from(x.items))).toEqual([[0, 1, 2, 3, 4, 5], [5, 6, 7, 8, 9, 10], [10, 11]]);
  });
});
