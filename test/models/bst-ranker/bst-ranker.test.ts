import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { buildCorpus, ItemKnn, type SessionCorpus } from '../../../src/baselines/index.js';
import { loadModel } from '../../../src/scoring/model-registry.js';
import { newSessionState, type SessionState } from '../../../src/sessions/session-state.js';
import { generateSessions } from '../../../src/synthetic/index.js';
import { evaluateNextItem } from '../../../models/training/evaluate-next-item.js';
import { Rng } from '../../../models/training/rng.js';
import { tf } from '../../../src/backend/tf.js';
import { embed, encode, gatherWindowRows, uploadDense, windowAttention, windowPositions } from '../../../models/transformer/forward.js';
import { BstRankerParams } from '../../../models/bst-ranker/params.js';
import { BstRanker, clickLogits, rankerWindow, uploadMlp, windowBuckets } from '../../../models/bst-ranker/ranker.js';
import { trainBstRanker, type BstTrainResult } from '../../../models/bst-ranker/train.js';
import { TwoStageScorer } from '../../../models/bst-ranker/two-stage.js';
import { saveBstRanker } from '../../../models/bst-ranker/io.js';
import '../../../models/index.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

let corpus: SessionCorpus;
let testSessions: { offsets: Int32Array; items: Int32Array };
let trained: BstTrainResult;

function session(items: number[], times: number[] = []): SessionState {
  const s = newSessionState('s', 0, 0);
  s.items.push(...items);
  (s.times as number[]).push(...times);
  return s;
}

describe('BST ranker', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    const log = generateSessions({ items: 200, intents: 8, sessions: 2000, sequentialProbability: 0.8, seed: 9 });
    corpus = await buildCorpus(log.train);
    const t = await buildCorpus(log.test, { vocabulary: corpus.vocabulary });
    testSessions = { offsets: t.offsets, items: t.items };
    trained = await trainBstRanker(corpus, { config: { hiddenSize: 16, feedForwardSize: 32, mlp: [32, 16], maxLength: 8, epochs: 2, batchSize: 64, learningRate: 0.005, seed: 4, useCandidateScore: false } });
  }, HEAVY_TEST_TIMEOUT_MS);

  it('ranking with the shared item prefix equals a full pass over [items, candidate]', () => {
    const p = BstRankerParams.fromConfig({ hiddenSize: 8, heads: 2, feedForwardSize: 12, mlp: [6], maxLength: 4, timeBuckets: 6, seed: 2, useCandidateScore: false }, 30);
    const r = new Rng(1);
    for (const w of p.block.dense) for (let i = 0; i < w.values.length; i++) w.values[i] = w.values[i]! + (r.next() - 0.5) * 0.2;
    const sessions = [session([3, 4, 5, 6, 7, 8], [0, 1000, 5000, 60000, 61000, 400000]), session([9]), session([1, 2])];
    const M = 3;
    const cands = Int32Array.of(0, 5, 29, 11, 12, 13, 2, 2, 20);
    const ranker = new BstRanker(p);
    const fast = ranker.logits(sessions, cands, M);
    ranker.dispose();
    const dense = uploadDense(p.block), mlp = uploadMlp(p);
    sessions.forEach((s, b) => {
      for (let m = 0; m < M; m++) {
        // A full pass over [items, candidate] through the same layers, read separately.
        const w = rankerWindow(s, 4);
        const items = [...w.items, cands[b * M + m]!];
        const T = items.length, d = 8;
        const want = tf.tidy(() => {
          const rows = tf.tensor2d(gatherWindowRows(p.block.itemTable, d, [items], T), [T, d]);
          const h = encode(dense, p.block.config, embed(dense, rows, windowPositions([T], T), windowBuckets([[...w.gaps, undefined]], T, 6)), windowAttention(p.block.config, 1, T)).hidden;
          return clickLogits(p, mlp, tf.slice(h, [T - 1, 0], [1, d]), tf.slice(h, [T - 2, 0], [1, d])).dataSync()[0]!;
        });
        expect(Math.abs(want - fast[b * M + m]!)).toBeLessThan(1e-4);
      }
    });
    tf.dispose([...dense.values(), ...mlp.values()]);
  });

  it('learns to score the true next item above sampled items', () => {
    const ranker = new BstRanker(trained.params);
    const r = new Rng(5);
    let wins = 0, pairs = 0;
    const { offsets, items } = testSessions;
    for (let s = 0; s + 1 < offsets.length && pairs < 600; s++) {
      for (let t = offsets[s]! + 1; t < offsets[s + 1]!; t++) {
        const st = session(Array.from(items.subarray(offsets[s]!, t)));
        const neg = r.int(corpus.vocabulary.size);
        if (neg === items[t]) continue;
        const l = ranker.logits([st], Int32Array.of(items[t]!, neg), 2);
        wins += l[0]! > l[1]! ? 1 : 0;
        pairs++;
      }
    }
    ranker.dispose();
    // Measured 0.73 with this seed (0.5 = chance).
    expect(wins / pairs).toBeGreaterThan(0.65);
  });

  it('two-stage re-ranks the top M, keeps everything else below in first-stage order, and can be switched off', async () => {
    const knn = ItemKnn.train(corpus);
    const two = new TwoStageScorer(knn, new BstRanker(trained.params), { topM: 10 });
    const off = new TwoStageScorer(knn, new BstRanker(trained.params), { enabled: false });
    const s = [session([1, 2, 3])];
    const base = knn.score(s);
    const out = await two.score(s);
    expect(Array.from(await off.score(s))).toEqual(Array.from(base));
    const order = Array.from(base.keys()).sort((a, b) => base[b]! - base[a]!);
    const top = new Set(order.slice(0, 10));
    const minTop = Math.min(...[...top].map((i) => out[i]!));
    for (let i = 0; i < base.length; i++) if (!top.has(i)) expect(out[i]!).toBeLessThan(minTop);
    const rest = order.slice(10);
    for (let k = 1; k < rest.length; k++) expect(out[rest[k]!]!).toBeLessThanOrEqual(out[rest[k - 1]!]!);
    const res = await evaluateNextItem(two, testSessions, { maxPredictions: 500 });
    expect(res.predictions).toBe(500);
  });

  it('with the first-stage score as a feature, re-ranking item-kNN candidates keeps or improves its accuracy', async () => {
    const knn = ItemKnn.train(corpus);
    const r = await trainBstRanker(corpus, { candidates: knn, config: { hiddenSize: 16, feedForwardSize: 32, mlp: [32, 16], maxLength: 8, epochs: 1, batchSize: 64, learningRate: 0.005, hardNegativeTopM: 20, maxPrefixes: 4000, seed: 4 } });
    const two = new TwoStageScorer(knn, new BstRanker(r.params), { topM: 20 });
    const both = await evaluateNextItem(two, testSessions, { maxPredictions: 1500 });
    const alone = await evaluateNextItem(knn, testSessions, { maxPredictions: 1500 });
    expect(both.mrr).toBeGreaterThan(alone.mrr * 0.95);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('saves a ranker that loads as the two-stage pipeline with identical scores', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nextclick-bst-'));
    try {
      const knn = ItemKnn.train(corpus);
      await knn.save(join(dir, 'knn'));
      await saveBstRanker(join(dir, 'ranker'), { params: trained.params, vocabulary: corpus.vocabulary, candidatesDir: join(dir, 'knn'), twoStage: { topM: 20 } });
      const loaded = await loadModel(join(dir, 'ranker'));
      expect(loaded.scorer).toBeInstanceOf(TwoStageScorer);
      const direct = new TwoStageScorer(knn, new BstRanker(trained.params), { topM: 20 });
      const s = [session([4, 5]), session([7, 8, 9])];
      expect(Array.from(await loaded.scorer.score(s))).toEqual(Array.from(await direct.score(s)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
