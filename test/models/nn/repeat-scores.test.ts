import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../models/nn/gradients.js';
import { addRepeatLogits, forEachRecentItem, repeatAdditions, repeatEntries } from '../../../models/nn/repeat-scores.js';
import { ItemScoringTable } from '../../../models/scoring/item-scoring-table.js';
import { runReadsSync } from '../../../models/training/tensor-reads.js';
import { Rng } from '../../../models/training/rng.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { topK, type ItemFilter } from '../../../src/scoring/top-k.js';

beforeAll(async () => { await selectBackend({ backend: 'cpu' }); });

function recent(items: number[], start: number, end: number, window: number): [number, number][] {
  const out: [number, number][] = [];
  forEachRecentItem(items, start, end, window, (it, d) => out.push([it, d]));
  return out;
}

describe('forEachRecentItem', () => {
  it('visits each distinct item once at the distance of its latest occurrence, within the window and the session', () => {
    //            0  1  2  3  4  5  6
    const items = [8, 9, 3, 7, 3, 5, 3];
    expect(recent(items, 0, 5, 4)).toEqual([[5, 0], [3, 1], [7, 2]]);
    expect(recent(items, 0, 6, 10)).toEqual([[3, 0], [5, 1], [7, 3], [9, 5], [8, 6]]);
    // The session starts at 3: items before it are another session's.
    expect(recent(items, 3, 5, 10)).toEqual([[5, 0], [3, 1], [7, 2]]);
    expect(recent(items, 0, 6, 0)).toEqual([]);
  });
});

describe('repeatEntries', () => {
  it('puts an entry at every column holding a recent item, and none for items without a column', () => {
    const sessions = [[4, 2, 4], [6]];
    const columns = new Map<number, number[]>([[4, [0, 5]], [6, [2]]]);
    const e = repeatEntries(2, (r) => ({ items: sessions[r]!, start: 0, end: sessions[r]!.length - 1 }), 5, (it, add) => { for (const c of columns.get(it) ?? []) add(c); });
    expect(Array.from(e.indices)).toEqual([0, 0, 0, 5, 1, 2]);
    expect(Array.from(e.distance)).toEqual([0, 0, 0]);
  });
});

describe('addRepeatLogits', () => {
  it('adds weights[distance] at the entries, and its autodiff gradient matches central differences', () => {
    const w0 = Float32Array.from([0.3, -0.2, 0.5, 0.1]);
    const scores = tf.tensor2d([0.1, 0.4, -0.3, 0.2, 0.7, -0.1], [2, 3]);
    // Row 0: column 1 at distance 0, column 2 at distance 2; row 1: column 0 at distance 1 and column 1 at distance 1.
    const e = { indices: Int32Array.from([0, 1, 0, 2, 1, 0, 1, 1]), distance: Int32Array.from([0, 2, 1, 1]) };
    const out = addRepeatLogits(scores, tf.tensor1d(w0), e).arraySync();
    expect(out[0]![1]).toBeCloseTo(0.4 + 0.3, 5);
    expect(out[0]![2]).toBeCloseTo(-0.3 + 0.5, 5);
    expect(out[1]![0]).toBeCloseTo(0.2 - 0.2, 5);
    expect(out[0]![0]).toBeCloseTo(0.1, 5);
    // A cross-entropy (target columns 2 and 0) through the entries.
    const loss = (w: tf.Tensor) => tf.tidy(() => {
      const logits = addRepeatLogits(scores, w as tf.Tensor1D, e);
      return tf.sum(tf.losses.softmaxCrossEntropy(tf.tensor2d([0, 0, 1, 1, 0, 0], [2, 3]), logits, undefined, undefined, tf.Reduction.NONE)) as tf.Scalar;
    });
    const analytic = tf.grad(loss)(tf.tensor1d(w0)).dataSync();
    const eps = 1e-3;
    for (let i = 0; i < w0.length; i++) {
      const up = w0.slice(), down = w0.slice();
      up[i]! += eps; down[i]! -= eps;
      const numeric = (loss(tf.tensor1d(up)).dataSync()[0]! - loss(tf.tensor1d(down)).dataSync()[0]!) / (2 * eps);
      expect(Math.abs(numeric - analytic[i]!)).toBeLessThan(1e-3 + 0.02 * Math.abs(numeric));
    }
    // Distance 3 has no entry: zero gradient, but a gradient all the same.
    expect(analytic[3]).toBe(0);
    expect(Array.from(tf.grad(loss)(tf.tensor1d(w0)).shape)).toEqual([4]);
  });

  it('gives a zero gradient when the step has no entry', () => {
    const g = tf.grad((w: tf.Tensor) => tf.sum(addRepeatLogits(tf.ones([2, 2]), w as tf.Tensor1D, { indices: new Int32Array(0), distance: new Int32Array(0) })) as tf.Scalar)(tf.tensor1d([1, 2]));
    expect(Array.from(g.dataSync())).toEqual([0, 0]);
  });
});

/** Reference: each session's repeat additions written into its full score row (`[sessions, itemCount]`, in place). */
function addRepeatScores(scores: Float32Array, itemCount: number, sessions: readonly { readonly items: readonly number[] }[], weights: Float32Array): Float32Array {
  const a = repeatAdditions(sessions, weights, itemCount);
  for (let i = 0; i < a.rows.length; i++) scores[a.rows[i]! * itemCount + a.items[i]!]! += a.values[i]!;
  return scores;
}

describe('serving: repeatAdditions', () => {
  it('repeatAdditions gives each recent item\'s weight to its own row only', () => {
    const rows = new Float32Array(2 * 6);
    addRepeatScores(rows, 6, [{ items: [1, 4, 1, 5] }, { items: [] }], Float32Array.from([1, 10, 100]));
    expect(Array.from(rows)).toEqual([0, 10, 0, 0, 100, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('the scoring table with repeatAdditions (backend, host and host-loop selection) equals topK over the full rows with repeat scores (filters, negative weights)', () => {
    const rng = new Rng(11);
    const N = 60, d = 4, k = 5;
    for (let trial = 0; trial < 24; trial++) {
      const vectors = Float32Array.from({ length: N * d }, () => rng.next() * 2 - 1);
      const bias = Float32Array.from({ length: N }, () => rng.next() * 2 - 1);
      const hidden = Float32Array.from({ length: d }, () => rng.next() * 2 - 1);
      const plain = Float32Array.from({ length: N }, (_, it) => bias[it]! + hidden.reduce((acc, h, j) => acc + h * vectors[it * d + j]!, 0));
      const weights = Float32Array.from({ length: 4 }, () => (rng.next() * 2 - 1) * 2);
      const session = { items: Array.from({ length: 1 + rng.int(7) }, () => rng.int(N)) };
      const filter: ItemFilter | undefined = trial % 3 === 0 ? { exclude: [session.items[0]!, 3] } : trial % 3 === 1 ? { allow: new Set(Array.from({ length: 30 }, (_, i) => 2 * i)) } : undefined;
      const want = topK(addRepeatScores(plain.slice(), N, [session], weights), k, filter);
      for (const options of [{ select: 'backend' as const }, { select: 'host' as const }, { exact: 'loop' as const }]) {
        const table = new ItemScoringTable({ vectors, bias, itemCount: N, dims: d }, { scoring: 'exact', ...options });
        const [got] = runReadsSync(table.topKOf(() => tf.tensor2d(hidden, [1, d]), 1, k, [filter], repeatAdditions([session], weights, N)));
        table.dispose();
        expect(new Set(got!.items), JSON.stringify(options)).toEqual(new Set(want.items));
        Array.from(got!.scores).sort((x, y) => y - x).forEach((s, i) => expect(s).toBeCloseTo(want.scores[i]!, 4));
      }
    }
  });
});
