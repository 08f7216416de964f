import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// Worker threads load compiled JavaScript, so this test runs the built package (npm test builds it first).
import { trainTransformer, TransformerScorer, saveTransformer } from '../../../dist/models/transformer/index.js';
import { evaluateNextItem } from '../../../dist/models/training/evaluate-next-item.js';
import { loadModel } from '../../../dist/src/scoring/model-registry.js';
import { buildCorpus, ItemKnn } from '../../../dist/src/baselines/index.js';
import { generateSessions } from '../../../dist/src/synthetic/index.js';
import { splitValidation } from '../../../dist/src/data/validation-split.js';
import '../../../dist/models/index.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

const tiny = { readout: 'last' as const, cosineTemperature: 0, hiddenSize: 32, heads: 2, blocks: 1, feedForwardSize: 64, maxLength: 10, nSample: 256, batchSize: 64, epochs: 6, learningRate: 0.005, dropoutEmbedding: 0.1, dropoutHidden: 0.1, validationFraction: 0, seed: 3 };

describe('parallel transformer training (workers > 1)', () => {
  it('two worker threads train every position of each epoch on shared weights and learn the synthetic log as well as one', async () => {
    const log = generateSessions({ items: 300, intents: 10, sessions: 2500, sequentialProbability: 0.8, seed: 5 });
    const corpus = await buildCorpus(log.train);
    const t = await buildCorpus(log.test, { vocabulary: corpus.vocabulary });
    const test = { offsets: t.offsets, items: t.items };
    const dir = await mkdtemp(join(tmpdir(), 'nextclick-parallel-'));
    try {
      const one = await trainTransformer(corpus, { config: tiny, backend: 'wasm' });
      const two = await trainTransformer(corpus, { config: { ...tiny, workers: 2 }, backend: 'wasm', onEpoch: async (m, params) => { if (m.epoch === 1) await saveTransformer(dir, { params, config: params.config, vocabulary: corpus.vocabulary }); } });
      // Each epoch trains every position exactly once, split between the workers.
      expect(two.epochs.map((e) => e.events)).toEqual(one.epochs.map((e) => e.events));
      expect(two.epochs.at(-1)!.loss).toBeLessThan(two.epochs[0]!.loss);
      const score = async (params: typeof one.params) => { const s = new TransformerScorer(params); try { return await evaluateNextItem(s, test); } finally { s.dispose(); } };
      const m1 = await score(one.params), m2 = await score(two.params);
      const knn = await evaluateNextItem(ItemKnn.train(corpus), test);
      expect(m2.mrr).toBeGreaterThan(knn.mrr);
      expect(m2.recall).toBeGreaterThan(0.9 * m1.recall);
      // A checkpoint written from the shared weights mid-training loads as an ordinary model.
      const loaded = await loadModel(dir);
      expect(loaded.manifest.kind).toBe('transformer');
      expect(loaded.vocabulary.size).toBe(corpus.vocabulary.size);
      console.log(`synthetic: 2 workers Recall@20 ${m2.recall.toFixed(4)} MRR@20 ${m2.mrr.toFixed(4)}; 1 worker ${m1.recall.toFixed(4)} / ${m1.mrr.toFixed(4)}; item-kNN ${knn.recall.toFixed(4)} / ${knn.mrr.toFixed(4)}; ${two.trainSeconds.toFixed(1)} s vs ${one.trainSeconds.toFixed(1)} s`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, HEAVY_TEST_TIMEOUT_MS);

  it('trains the held-out sessions after parallel epochs (trainOnValidation) with the workers\' shared optimiser state', async () => {
    const log = generateSessions({ items: 200, intents: 8, sessions: 800, sequentialProbability: 0.8, seed: 9 });
    const corpus = await buildCorpus(log.train);
    const r = await trainTransformer(corpus, { config: { ...tiny, epochs: 1, workers: 2, validationFraction: 0.1, validationMaxEvents: 300 }, backend: 'wasm' });
    const held = splitValidation(corpus, 0.1, 300).validation!;
    expect(r.validationPass?.events).toBe(held.items.length - (held.offsets.length - 1));
    expect(r.params.itemTable.every(Number.isFinite)).toBe(true);
  }, HEAVY_TEST_TIMEOUT_MS);
});
