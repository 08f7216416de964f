// Serving on the backend (issue #16 item 5): hidden states in a backend slot table, observe without read-back,
// one read per micro-batch that recommends, results equal to a host reference of the same forward.
import { describe, expect, it } from 'vitest';
import { resolveGru4RecConfig } from '../../../models/gru4rec/config.js';
import { gru4recStep } from '../../../models/gru4rec/forward.js';
import { Gru4RecParams } from '../../../models/gru4rec/params.js';
import { Gru4RecScorer } from '../../../models/gru4rec/scorer.js';
import { Rng } from '../../../models/training/rng.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { ClickPipeline } from '../../../src/pipeline/click-pipeline.js';
import { topK, type ItemFilter } from '../../../src/scoring/top-k.js';
import { newSessionState, type SessionState } from '../../../src/sessions/session-state.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { churnPipeline } from '../../helpers/pipeline-churn.js';
import { countReadBacks } from '../../helpers/read-backs.js';

const N = 300;

function model(layers: number[]): Gru4RecParams {
  const params = new Gru4RecParams(resolveGru4RecConfig({ layers, seed: 1 }), N);
  params.initialize(new Rng(2));
  // Spread the output bias so it matters for the ranking.
  params.outputBias.forEach((_, i) => { params.outputBias[i] = ((i * 37) % 11) / 50; });
  return params;
}

/** The host reference: every session replayed from a zero state through forward.ts, scores read per session. */
function referenceScores(params: Gru4RecParams, sessions: readonly SessionState[]): Float32Array {
  const out = new Float32Array(sessions.length * N);
  tf.tidy(() => {
    const layers = params.layers.map((l) => ({ kernel: tf.tensor2d(l.kernel, [l.inSize, 3 * l.size]), recurrent: tf.tensor2d(l.recurrent, [l.size, 3 * l.size]), bias: tf.tensor1d(l.bias) }));
    const input = tf.tensor2d(params.inputTable ?? params.itemTable, [N, params.inSize]);
    sessions.forEach((s, b) => {
      let states = params.layers.map((l) => tf.zeros([1, l.size]) as tf.Tensor2D);
      for (const item of s.items) states = gru4recStep(tf.gather(input, [item]) as tf.Tensor2D, states, layers).states;
      const scores = tf.add(tf.matMul(states[states.length - 1]!, tf.tensor2d(params.itemTable, [N, params.outSize]), false, true), tf.tensor1d(params.outputBias));
      out.set(scores.dataSync() as Float32Array, b * N);
    });
  });
  return out;
}

function sessionsOf(count: number, seed: number): SessionState[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const s = newSessionState(`s${i}`, 0, 0);
    s.items.push(rng.int(N));
    return s;
  });
}

function expectSameTopK(got: { items: Int32Array; scores: Float32Array }, scores: Float32Array, row: number, k: number, filter: ItemFilter | undefined): void {
  const want = topK(scores, k, filter, row * N, N);
  expect(Array.from(got.items)).toEqual(Array.from(want.items));
  got.scores.forEach((v, j) => expect(Math.abs(v - want.scores[j]!)).toBeLessThan(1e-4));
}

describe.each(['cpu', 'wasm'] as const)('GRU4Rec serving on %s', (backend) => {
  it.each([
    [[16], 'host'],
    [[12, 10], 'host'],
    [[12, 10], 'backend'],
  ] as const)('observe reads nothing, observe + recommend reads once, results match the host reference (layers %j, top-k selected on the %s)', async (layers, select) => {
    await selectBackend({ backend, force: true, strict: true });
    const params = model([...layers]);
    const scorer = new Gru4RecScorer(params, { select });
    const rng = new Rng(3);
    const ss = sessionsOf(9, 4);
    expect((await countReadBacks(() => scorer.observe(ss))).reads).toBe(0);
    for (let round = 0; round < 4; round++) {
      ss.forEach((s) => s.items.push(rng.int(N)));
      expect((await countReadBacks(() => scorer.observe(ss))).reads).toBe(0);
      const filters: ItemFilter[] = ss.map((s, b) => (b % 3 === 0 ? { exclude: new Set(s.items) } : b % 3 === 1 ? { allow: new Set([1, 5, 9, 200, 299, 17]) } : {}));
      // Every other round one row excludes 90 items: the backend then scatters -Infinity instead of over-fetching.
      if (round % 2 === 0) filters[3] = { exclude: new Set([...ss[3]!.items, ...Array.from({ length: 90 }, (_, i) => i * 3)]) };
      const { result: recs, reads } = await countReadBacks(() => scorer.recommend(ss, 10, filters));
      expect(reads).toBe(1);
      const ref = referenceScores(params, ss);
      const { result: rows, reads: scoreReads } = await countReadBacks(() => scorer.score(ss));
      expect(scoreReads).toBe(1);
      rows.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-4));
      ss.forEach((_, b) => {
        expectSameTopK(recs[b]!, ref, b, 10, filters[b]);
        expectSameTopK(recs[b]!, rows, b, 10, filters[b]);
      });
      // The allow list leaves 6 items (fewer than k): only those come back.
      expect(recs[1]!.items.length).toBe(6);
    }
    scorer.dispose();
  });

  it('rebuilds a session from its items when its state is cleared, and reuses its row', async () => {
    await selectBackend({ backend, force: true, strict: true });
    const params = model([8, 6]);
    const scorer = new Gru4RecScorer(params);
    const ss = sessionsOf(3, 5);
    scorer.observe(ss);
    for (let step = 1; step <= 3; step++) {
      ss.forEach((s, i) => s.items.push(i + step));
      scorer.observe(ss);
    }
    const incremental = await scorer.readStates(ss);
    const before = scorer.liveSlots;
    ss[1]!.modelState = undefined; // e.g. an out-of-order event reordered the window
    expect((await countReadBacks(() => scorer.observe([ss[1]!]))).reads).toBe(0);
    expect(scorer.liveSlots).toBe(before);
    const rebuilt = await scorer.readStates(ss);
    rebuilt.forEach((v, i) => expect(Math.abs(v - incremental[i]!)).toBeLessThan(1e-5));
    scorer.dispose();
  });

  it('reclaims the least recently used slot when the table is full; the reclaimed session is rebuilt from its items', async () => {
    await selectBackend({ backend, force: true, strict: true });
    const params = model([8]);
    const scorer = new Gru4RecScorer(params, { initialSlots: 2, maxSlots: 4 });
    const ss = sessionsOf(6, 6);
    ss.forEach((s, i) => s.items.push((i * 7) % N));
    scorer.observe(ss.slice(0, 4));
    scorer.observe(ss.slice(4)); // reclaims the slots of s0 and s1
    expect(scorer.liveSlots).toBe(4);
    const ref = referenceScores(params, ss);
    const filters = [{}, {}];
    // s0 and s1 lost their rows: recommend rebuilds them (reclaiming s2, s3) within its one read.
    const { result, reads } = await countReadBacks(() => scorer.recommend(ss.slice(0, 2), 5, filters));
    expect(reads).toBe(1);
    result.forEach((r, b) => expectSameTopK(r, ref, b, 5, {}));
    expect(() => scorer.observe(sessionsOf(5, 7))).toThrow(/maxSlots/);
    scorer.dispose();
  });

  it('a pipeline frees the slots of closed sessions; no tensor leaks over 100 batches with evictions', async () => {
    await selectBackend({ backend, force: true, strict: true });
    const params = model([8]);
    const scorer = new Gru4RecScorer(params, { initialSlots: 4, maxSlots: 64 });
    const vocabulary = ItemVocabulary.fromIds(Array.from({ length: N }, (_, i) => `i${i}`));
    const pipeline = new ClickPipeline(scorer, vocabulary, { k: 5, excludeSeen: true, sessions: { maxSessions: 12 } });
    const churn = await churnPipeline(pipeline, 40, N);
    expect(churn.allAnswered).toBe(true);
    expect(pipeline.stats().evicted).toBeGreaterThan(50);
    expect(scorer.liveSlots).toBeLessThanOrEqual(12);
    // A batch is cut into rounds when a session repeats; each round reads once.
    expect(churn.reads).toBe(churn.batches);
    expect(churn.tensorsAfter).toBe(churn.tensorsBefore);
    // A session ended by the caller (as the replay evaluator does) frees its slot too.
    const live = scorer.liveSlots;
    const first = pipeline.sessionizer.values().next().value!;
    pipeline.endSession(first.key);
    expect(scorer.liveSlots).toBe(live - 1);
    expect(first.modelState).toBeUndefined();
    await pipeline.close();
    expect(scorer.liveSlots).toBe(0);
    scorer.dispose();
  });
});
