// Serving on the backend (issue #16 item 5): the KV cache in backend slot tables, observe without read-back,
// one read per micro-batch that recommends, results equal to full recomputation and to score() + topK.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../models/training/rng.js';
import { resolveTransformerConfig } from '../../../models/transformer/config.js';
import { TransformerParams } from '../../../models/transformer/params.js';
import { TransformerScorer } from '../../../models/transformer/scorer.js';
import { TransitionGraph } from '../../../models/transformer/transitions.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { ClickPipeline } from '../../../src/pipeline/click-pipeline.js';
import { topK, type ItemFilter } from '../../../src/scoring/top-k.js';
import { newSessionState, type SessionState } from '../../../src/sessions/session-state.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { churnPipeline } from '../../helpers/pipeline-churn.js';
import { countReadBacks } from '../../helpers/read-backs.js';

const N = 80;
const vocabulary = ItemVocabulary.fromIds(Array.from({ length: N }, (_, i) => `i${i}`));

/** A small model with every serving term: item-attention readout, time gaps, repeat bias and transition prior. */
function model(): TransformerParams {
  const c = resolveTransformerConfig({ hiddenSize: 16, heads: 2, blocks: 2, feedForwardSize: 24, maxLength: 5, timeBuckets: 4, loss: 'cross-entropy', repeatBias: true, transitionPrior: true });
  const p = new TransformerParams(c, N);
  p.initialize(new Rng(5));
  const r = new Rng(9);
  for (let i = 0; i < N; i++) p.outputBias[i] = r.next() * 0.1;
  for (const w of p.dense.filter((x) => x.name.startsWith('readout_') || x.name === 'repeat_bias' || x.name === 'transition_weight')) w.values.forEach((_, i, a) => { a[i] = r.next() * 2 - 1; });
  const sessions = Array.from({ length: 40 }, () => Array.from({ length: 2 + r.int(5) }, () => r.int(N)));
  const offsets = new Int32Array(sessions.length + 1);
  sessions.forEach((s, i) => { offsets[i + 1] = offsets[i]! + s.length; });
  p.transitions = TransitionGraph.fromSessions({ offsets, items: Int32Array.from(sessions.flat()) }, N);
  return p;
}

function expectSameTopK(got: { items: Int32Array; scores: Float32Array }, scores: Float32Array, row: number, k: number, filter: ItemFilter | undefined): void {
  const want = topK(scores, k, filter, row * N, N);
  expect(Array.from(got.items)).toEqual(Array.from(want.items));
  got.scores.forEach((v, j) => expect(Math.abs(v - want.scores[j]!)).toBeLessThan(1e-4));
}

describe.each(['cpu', 'wasm'] as const)('transformer serving on %s', (backend) => {
  it.each(['host', 'backend'] as const)('observe reads nothing, recommend reads once and equals score() + topK and full recomputation (top-k on the %s)', async (select) => {
    await selectBackend({ backend, force: true, strict: true });
    const p = model();
    const scorer = new TransformerScorer(p, { select });
    const full = new TransformerScorer(p, { cache: false });
    const r = new Rng(21);
    const lengths = [1, 3, 5, 6, 9, 12]; // up to twice the window: KV steps and window slides
    const a = lengths.map((_, i) => newSessionState(`a${i}`, 0, 0));
    const b = lengths.map((_, i) => newSessionState(`b${i}`, 0, 0));
    let checked = 0;
    for (let t = 0; t < 12; t++) {
      const active = lengths.flatMap((n, i) => (t < n ? [i] : []));
      for (const i of active) {
        const item = r.int(N);
        for (const s of [a[i]!, b[i]!]) { s.items.push(item); s.times.push(1000 * t * t + i * 777); }
      }
      const sa = active.map((i) => a[i]!), sb = active.map((i) => b[i]!);
      expect((await countReadBacks(() => scorer.observe(sa))).reads).toBe(0);
      await full.observe(sb);
      const filters: ItemFilter[] = sa.map((s, row) => (row % 3 === 0 ? { exclude: new Set(s.items) } : row % 3 === 1 ? { allow: new Set([1, 5, 9, 30, 79, ...s.items]) } : {}));
      // Every other step the first row excludes 70 items: the backend then scatters -Infinity instead of over-fetching.
      if (t % 2 === 0) filters[0] = { exclude: new Set([...sa[0]!.items, ...Array.from({ length: 70 }, (_, i) => i)]) };
      const { result: recs, reads } = await countReadBacks(() => scorer.recommend(sa, 8, filters));
      expect(reads).toBe(1);
      const rows = await scorer.score(sa);
      const ref = await full.score(sb);
      rows.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-4));
      sa.forEach((_, row) => { expectSameTopK(recs[row]!, rows, row, 8, filters[row]); checked++; });
    }
    expect(checked).toBe(lengths.reduce((x, y) => x + y, 0));
    scorer.dispose();
    full.dispose();
  });

  it('reclaims the least recently used slot when full and rebuilds that session from its items; a cleared state is rebuilt in place', async () => {
    await selectBackend({ backend, force: true, strict: true });
    const p = model();
    const scorer = new TransformerScorer(p, { initialSlots: 2, maxSlots: 4 });
    const full = new TransformerScorer(p, { cache: false });
    const r = new Rng(3);
    const ss: SessionState[] = Array.from({ length: 6 }, (_, i) => newSessionState(`s${i}`, 0, 0));
    for (let t = 0; t < 3; t++) {
      for (const s of ss) s.items.push(r.int(N));
      scorer.observe(ss.slice(0, 3));
      scorer.observe(ss.slice(3)); // 6 sessions, 4 slots: each call reclaims the other half's rows
    }
    expect(scorer.liveSlots).toBe(4);
    // Half of the sessions lost their rows: scoring them rebuilds them (no extra read) and reclaims the others.
    const got = new Float32Array(6 * N);
    for (const half of [0, 3]) {
      const { result, reads } = await countReadBacks(() => scorer.score(ss.slice(half, half + 3)));
      expect(reads).toBe(1);
      got.set(result, half * N);
    }
    await full.observe(ss.map((s) => ({ ...s, modelState: undefined })));
    const want = await full.score(ss.map((s) => ({ ...s, modelState: undefined })));
    got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-4));
    ss[0]!.modelState = undefined; // a reordered window
    scorer.observe([ss[0]!]);
    expect(scorer.liveSlots).toBeLessThanOrEqual(4);
    const again = await scorer.score([ss[0]!]);
    again.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-4));
    scorer.dispose();
    full.dispose();
  });

  it('a pipeline frees the slots of closed sessions; no tensor leaks over 100 batches with evictions', async () => {
    await selectBackend({ backend, force: true, strict: true });
    const scorer = new TransformerScorer(model(), { initialSlots: 4, maxSlots: 32 });
    const pipeline = new ClickPipeline(scorer, vocabulary, { k: 5, excludeSeen: true, sessions: { maxSessions: 10 } });
    const churn = await churnPipeline(pipeline, 30, N);
    expect(churn.allAnswered).toBe(true);
    expect(pipeline.stats().evicted).toBeGreaterThan(50);
    expect(scorer.liveSlots).toBeLessThanOrEqual(10);
    expect(churn.reads).toBe(churn.batches); // one per round (a batch is cut where a session repeats)
    expect(churn.tensorsAfter).toBe(churn.tensorsBefore);
    await pipeline.close();
    expect(scorer.liveSlots).toBe(0);
    scorer.dispose();
  });
});
