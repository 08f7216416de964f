import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { newSessionState } from '../../../src/sessions/session-state.js';
import { Rng } from '../../../models/training/rng.js';
import { resolveTransformerConfig } from '../../../models/transformer/config.js';
import { loadTransformer, saveTransformer } from '../../../models/transformer/io.js';
import { TransformerParams } from '../../../models/transformer/params.js';
import { TransformerScorer } from '../../../models/transformer/scorer.js';
import { trainTransformer } from '../../../models/transformer/train.js';
import { TransitionGraph } from '../../../models/transformer/transitions.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

const tiny = { hiddenSize: 16, heads: 2, feedForwardSize: 16, maxLength: 4, nSample: 32, batchSize: 64, learningRate: 0.01, dropoutEmbedding: 0, dropoutHidden: 0, validationFraction: 0, seed: 3 } as const;

function corpus(sessions: number[][], items: number) {
  const offsets = new Int32Array(sessions.length + 1);
  sessions.forEach((s, i) => { offsets[i + 1] = offsets[i]! + s.length; });
  return { offsets, items: Int32Array.from(sessions.flat()), vocabulary: ItemVocabulary.fromIds(Array.from({ length: items }, (_, i) => `i${i}`)) };
}

async function scoreOne(scorer: TransformerScorer, prefixes: number[][]): Promise<Float32Array> {
  const states = prefixes.map((p, k) => { const s = newSessionState(`s${k}`, 0, 0); s.items.push(...p); return s; });
  await scorer.observe(states);
  return Float32Array.from(await scorer.score(states));
}

describe('transformer transition prior', () => {
  beforeAll(async () => { await selectBackend({ backend: 'wasm' }); });

  it('counts each directed adjacent pair of the sessions, without self-transitions', () => {
    const g = TransitionGraph.fromSessions(corpus([[0, 1, 2], [0, 1], [2, 2, 0], [1]], 3), 3);
    const pairs: string[] = [];
    for (let a = 0; a < 3; a++) for (let e = g.offsets[a]!; e < g.offsets[a + 1]!; e++) pairs.push(`${a}>${g.targets[e]}:${g.counts[e]}`);
    expect(pairs).toEqual(['0>1:2', '1>2:1', '2>0:1']);
    const back = TransitionGraph.fromNamed(new Map(g.named().map((w) => [w.name, w])), 3);
    expect([...back.offsets, ...back.targets, ...back.counts]).toEqual([...g.offsets, ...g.targets, ...g.counts]);
  });

  it("adds the newest item's successors weight[position] × log(1 + count) and nothing else", async () => {
    const config = resolveTransformerConfig({ ...tiny, transitionPrior: true });
    const p = new TransformerParams(config, 6);
    p.initialize(new Rng(2));
    p.transitions = TransitionGraph.fromSessions(corpus([[1, 4], [1, 4], [1, 4], [1, 2], [4, 1]], 6), 6);
    p.get('transition_weight').set([0.5, -1, 2, 3]);
    const plain = new TransformerParams(resolveTransformerConfig({ ...config, transitionPrior: false }), 6);
    plain.named().forEach((w) => w.values.set(p.named().find((x) => x.name === w.name)!.values));
    const withPrior = new TransformerScorer(p), without = new TransformerScorer(plain);
    // Newest item 1 at window position 1 (weight −1): 4 followed it 3 times, 2 once.
    const got = await scoreOne(withPrior, [[3, 1]]), ref = await scoreOne(without, [[3, 1]]);
    const diff = Array.from(got, (x, i) => Math.round((x - ref[i]!) * 1e4) / 1e4);
    expect(diff).toEqual([0, 0, -Math.round(Math.log(2) * 1e4) / 1e4, 0, -Math.round(Math.log(4) * 1e4) / 1e4, 0]);
    withPrior.dispose(); without.dispose();
  });

  it('learns the direction of a ring of clicks that cosine scoring of one item cannot see', async () => {
    const ITEMS = 60, rng = new Rng(8);
    const data = corpus(Array.from({ length: 3000 }, () => { const i = rng.int(ITEMS); return [i, (i + 1) % ITEMS]; }), ITEMS);
    const successorWins = async (transitionPrior: boolean) => {
      const r = await trainTransformer(data, { config: { ...tiny, transitionPrior, epochs: 2 } });
      const scorer = new TransformerScorer(r.params);
      const scores = await scoreOne(scorer, Array.from({ length: ITEMS }, (_, i) => [i]));
      scorer.dispose();
      let wins = 0;
      for (let i = 0; i < ITEMS; i++) if (scores[i * ITEMS + ((i + 1) % ITEMS)]! > scores[i * ITEMS + ((i + ITEMS - 1) % ITEMS)]!) wins++;
      return { wins: wins / ITEMS, weight: r.params.config.transitionPrior ? r.params.get('transition_weight')[0]! : 0 };
    };
    const withPrior = await successorWins(true), without = await successorWins(false);
    expect(withPrior.weight).toBeGreaterThan(0.1);
    expect(withPrior.wins).toBeGreaterThan(0.95);
    expect(without.wins).toBeLessThan(0.8);
  }, HEAVY_TEST_TIMEOUT_MS);

  it("leaves a session's own transitions out of its training counts, so pairs seen once teach no weight", async () => {
    // Each item is followed by one other item, in exactly one session. Counted with the session itself the
    // prior would point at every target and its weight would grow; left out, no count remains to learn from.
    const ITEMS = 120, rng = new Rng(6);
    const next = Array.from({ length: ITEMS }, (_, a) => (a + 1 + rng.int(ITEMS - 1)) % ITEMS);
    const sessions = Array.from({ length: ITEMS }, (_, a) => [a, next[a]!]);
    const r = await trainTransformer(corpus(sessions, ITEMS), { config: { ...tiny, transitionPrior: true, epochs: 3 } });
    expect(r.params.transitions!.size).toBe(ITEMS);
    expect(Array.from(r.params.get('transition_weight'))).toEqual([0, 0, 0, 0]);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('saves the graph with the model: a loaded model scores identically', async () => {
    const rng = new Rng(5);
    const data = corpus(Array.from({ length: 400 }, () => Array.from({ length: 2 + rng.int(5) }, () => rng.int(30))), 30);
    const r = await trainTransformer(data, { config: { ...tiny, transitionPrior: true, epochs: 1 } });
    const dir = await mkdtemp(join(tmpdir(), 'nextclick-prior-'));
    try {
      await saveTransformer(dir, { params: r.params, config: r.config, vocabulary: r.vocabulary });
      const loaded = await loadTransformer(dir);
      const before = new TransformerScorer(r.params);
      const prefixes = [[1], [2, 3], [4, 5, 6, 7, 8, 9]];
      const a = await scoreOne(before, prefixes), b = await scoreOne(loaded.scorer, prefixes);
      expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))).toBeLessThan(1e-5);
      expect(r.params.get('transition_weight').some((w) => w !== 0)).toBe(true);
      before.dispose(); loaded.scorer.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, HEAVY_TEST_TIMEOUT_MS);
});

describe('transformer warm start', () => {
  beforeAll(async () => { await selectBackend({ backend: 'wasm' }); });

  it('starts from the weights of a saved model, adds the new options fresh, and refuses another vocabulary', async () => {
    const rng = new Rng(9);
    const data = corpus(Array.from({ length: 300 }, () => Array.from({ length: 2 + rng.int(4) }, () => rng.int(25))), 25);
    const first = await trainTransformer(data, { config: { ...tiny, epochs: 1 } });
    // A learning rate this small leaves the copied weights where they were: what comes out is what went in.
    const second = await trainTransformer(data, { config: { ...tiny, epochs: 1, learningRate: 1e-9, transitionPrior: true }, initialWeights: first.params, continueFromEpoch: 3 });
    const a = first.params.itemTable, b = second.params.itemTable;
    expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))).toBeLessThan(1e-6);
    expect(Math.max(...second.params.get('transition_weight').map(Math.abs))).toBeLessThan(1e-6);
    const other = corpus([[0, 1], [1, 2]], 3);
    await expect(trainTransformer(other, { config: { ...tiny, epochs: 1 }, initialWeights: first.params })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'initialWeights' });
    await expect(trainTransformer(data, { config: { ...tiny, epochs: 1 }, continueFromEpoch: -1 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'continueFromEpoch' });
  }, HEAVY_TEST_TIMEOUT_MS);
});
