import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { newSessionState, type SessionState } from '../../../src/sessions/session-state.js';
import { resolveTransformerConfig, type TransformerConfig } from '../../../models/transformer/config.js';
import { TransformerParams } from '../../../models/transformer/params.js';
import { TransformerScorer } from '../../../models/transformer/scorer.js';
import { Rng } from '../../../models/training/rng.js';
import { countReadBacks } from '../../helpers/read-backs.js';
import { topK } from '../../../src/scoring/top-k.js';
import { embed, encode, uploadDense, windowAttention, windowPositions, windowReadout, gatherWindowRows } from '../../../models/transformer/forward.js';

const ITEMS = 50;

function params(timeBuckets = 0, extra: Partial<TransformerConfig> = {}): TransformerParams {
  const c = resolveTransformerConfig({ hiddenSize: 16, heads: 2, blocks: 2, feedForwardSize: 24, maxLength: 6, timeBuckets, ...extra });
  const p = new TransformerParams(c, ITEMS);
  p.initialize(new Rng(5));
  const r = new Rng(9);
  for (let i = 0; i < ITEMS; i++) p.outputBias[i] = r.next() * 0.1;
  return p;
}

/** Sessions of different lengths (up to 3× the window), streamed event by event through two scorers. */
async function streamAndCompare(p: TransformerParams, withTimes: boolean): Promise<number> {
  const cached = new TransformerScorer(p);
  const full = new TransformerScorer(p, { cache: false });
  const r = new Rng(21);
  const lengths = [1, 3, 6, 7, 13, 18];
  const a = lengths.map((_, i) => newSessionState(`a${i}`, 0, 0));
  const b = lengths.map((_, i) => newSessionState(`b${i}`, 0, 0));
  let maxDiff = 0;
  for (let t = 0; t < 18; t++) {
    const active: number[] = [];
    lengths.forEach((n, i) => { if (t < n) active.push(i); });
    const time = 1000 * t * t;
    for (const i of active) {
      const item = r.int(ITEMS);
      for (const s of [a[i]!, b[i]!]) { s.items.push(item); if (withTimes) (s.times as number[]).push(time + i * 777); }
    }
    await cached.observe(active.map((i) => a[i]!));
    await full.observe(active.map((i) => b[i]!));
    const sa = await cached.score(active.map((i) => a[i]!));
    const sb = await full.score(active.map((i) => b[i]!));
    for (let k = 0; k < sa.length; k++) maxDiff = Math.max(maxDiff, Math.abs(sa[k]! - sb[k]!));
  }
  cached.dispose();
  full.dispose();
  return maxDiff;
}

describe('TransformerScorer', () => {
  beforeAll(async () => { await selectBackend({ backend: 'wasm' }); });

  it('cached streaming scores equal full recomputation over sessions longer than the window', async () => {
    expect(await streamAndCompare(params(), false)).toBeLessThan(1e-4);
  });

  it('the cache stays exact with the time-gap embedding', async () => {
    expect(await streamAndCompare(params(8), true)).toBeLessThan(1e-4);
  });

  it.each(['last', 'item-attention'] as const)('the cache stays exact with the %s readout and cosine scoring', async (readout) => {
    const p = params(0, { readout, cosineTemperature: 0.1 });
    const r = new Rng(3);
    for (const w of p.dense.filter((x) => x.name.startsWith('readout_'))) w.values.forEach((_, i, a) => { a[i] = r.next() * 2 - 1; });
    expect(await streamAndCompare(p, false)).toBeLessThan(1e-4);
  });

  it.each(['last', 'item-attention'] as const)('training forward = serving forward: the KV-cache step streams the whole-window session vector at every position (%s readout)', async (readout) => {
    const p = params(0, { readout, maxLength: 8 });
    const r = new Rng(4);
    for (const w of p.dense.filter((x) => x.name.startsWith('readout_'))) w.values.forEach((_, i, a) => { a[i] = r.next() * 2 - 1; });
    const items = Int32Array.of(3, 17, 3, 40, 8, 22, 9);
    const T = items.length, d = p.hiddenSize;
    // The training step's forward (forward.ts: embed, encode over the causal window, readout), without dropout.
    const dense = uploadDense(p);
    const want = tf.tidy(() => {
      const rows = tf.tensor2d(gatherWindowRows(p.itemTable, d, [items], T), [T, d]);
      const enc = encode(dense, p.config, embed(dense, rows, windowPositions([T], T)), windowAttention(p.config, 1, T));
      return (readout === 'last' ? enc.hidden : windowReadout(dense, enc.hidden, rows, 1, T)).dataSync() as Float32Array;
    });
    tf.dispose([...dense.values()]);
    const scorer = new TransformerScorer(p);
    const session = newSessionState('q', 0, 0);
    let max = 0;
    for (let t = 0; t < T; t++) {
      session.items.push(items[t]!);
      await scorer.observe([session]);
      const got = (await scorer.readState([session])).hidden;
      for (let i = 0; i < d; i++) max = Math.max(max, Math.abs(got[i]! - want[t * d + i]!));
    }
    scorer.dispose();
    expect(max).toBeLessThan(1e-4);
  });

  it('observe reads nothing back (KV-cache step or window recompute); score and recommend read once', async () => {
    const scorer = new TransformerScorer(params());
    const sessions = Array.from({ length: 5 }, (_, i) => newSessionState(String(i), 0, 0));
    const push = (k: number) => sessions.forEach((s, i) => s.items.push((k * 5 + i) % ITEMS));
    push(0);
    expect((await countReadBacks(() => scorer.observe(sessions))).reads).toBe(0); // recompute (no state yet)
    push(1);
    expect((await countReadBacks(() => scorer.observe(sessions))).reads).toBe(0); // cache step
    expect((await countReadBacks(() => scorer.score(sessions))).reads).toBe(1);
    expect((await countReadBacks(() => scorer.recommend(sessions, 5, sessions.map(() => ({}))))).reads).toBe(1);
    scorer.dispose();
  });

  it.each([0, 0.1])('recommend (cosine temperature %s, repeat bias): the exact path and ANN with every item as a candidate give the score rows\' filtered top k, in one read', async (tau) => {
    const p = params(0, { cosineTemperature: tau, repeatBias: true });
    p.repeatBias()!.forEach((_, i, a) => { a[i] = 0.5 - 0.1 * i; });
    const exact = new TransformerScorer(p);
    const ann = new TransformerScorer(p, { scoring: 'ann', candidates: ITEMS, expansionSearch: ITEMS });
    expect([exact.scoringMode, ann.scoringMode]).toEqual(['exact', 'ann']);
    const sessions = [[3, 9, 3, 4], [7], [1, 2, 5, 8, 13, 21, 34]].map((items, i) => { const s = newSessionState(`s${i}`, 0, 0); s.items.push(...items); return s; });
    const filters = [{ exclude: new Set([4]) }, {}, { exclude: new Set([34, 21]) }];
    await exact.observe(sessions);
    const rows = await exact.score(sessions);
    const want = filters.map((f, b) => topK(rows, 10, f, b * ITEMS, ITEMS));
    for (const scorer of [exact, ann]) {
      if (scorer === ann) await ann.observe(sessions);
      let got: Awaited<ReturnType<TransformerScorer['recommend']>> = [];
      expect((await countReadBacks(async () => { got = await scorer.recommend(sessions, 10, filters); })).reads).toBe(1);
      got.forEach((r, b) => {
        expect(Array.from(r.items)).toEqual(Array.from(want[b]!.items));
        r.scores.forEach((v, i) => expect(v).toBeCloseTo(want[b]!.scores[i]!, 3));
      });
    }
    exact.dispose(); ann.dispose();
  });

  it('keeps per-session state in modelState and rebuilds a session whose state was dropped', async () => {
    const p = params();
    const scorer = new TransformerScorer(p);
    const s = newSessionState('s', 0, 0);
    for (const item of [3, 9, 4]) { s.items.push(item); await scorer.observe([s]); }
    expect((await scorer.readState([s])).lengths).toEqual([3]);
    const before = await scorer.score([s]);
    s.modelState = undefined;
    await scorer.observe([s]);
    const after = await scorer.score([s]);
    let max = 0;
    for (let i = 0; i < before.length; i++) max = Math.max(max, Math.abs(before[i]! - after[i]!));
    expect(max).toBeLessThan(1e-4);
    // Scoring does not change state.
    expect(Array.from(await scorer.score([s]))).toEqual(Array.from(after));
    scorer.dispose();
  });

  it('does not leak tensors across repeated observe and score calls', async () => {
    const scorer = new TransformerScorer(params());
    const sessions: SessionState[] = Array.from({ length: 4 }, (_, i) => newSessionState(String(i), 0, 0));
    const round = async (k: number) => {
      sessions.forEach((s, i) => s.items.push((k * 7 + i) % ITEMS));
      await scorer.observe(sessions);
      await scorer.score(sessions);
    };
    await round(0);
    const base = tf.memory().numTensors;
    for (let k = 1; k < 15; k++) await round(k); // crosses the window (6), so both paths run
    expect(tf.memory().numTensors).toBe(base);
    scorer.dispose();
    expect(tf.memory().numTensors).toBeLessThan(base);
  });
});
