import { tf } from './gradients.js';
import { gatherRows } from '../../src/backend/gather.js';
import type { Recommendation } from '../../src/scoring/scorer.js';
import type { ItemFilter } from '../../src/scoring/top-k.js';
import { scatterAdd, type SparseLogitTensors } from './sampled-softmax.js';

/**
 * The repeat-aware layer shared by GRU4Rec and the transformer: a learned score per recency, added to the items
 * the session already holds. `weights[k]` goes to an item whose latest occurrence is k clicks before the
 * newest one (0 = the newest item itself), for the session's last `weights.length` clicks; every other item
 * gets nothing. Training adds the same amounts to the sampled logits as sparse entries (autodiff through
 * {@link repeatLogits}: a gather of the weights and a scatter-add), serving adds them to the score rows on the
 * host ({@link addRepeatScores}, {@link repeatAwareTopK}) from `SessionState.items`.
 */

/**
 * Visits the distinct items of `items[start ..= end]` among its last `window` positions, newest first, with the
 * distance of each item's latest occurrence from `end`. A linear look-back (windows are ≤ a few dozen clicks).
 */
export function forEachRecentItem(items: ArrayLike<number>, start: number, end: number, window: number, visit: (item: number, distance: number) => void): void {
  for (let k = 0; k < window && end - k >= start; k++) {
    const it = items[end - k]!;
    let seen = false;
    for (let j = 0; j < k && !seen; j++) seen = items[end - j] === it;
    if (!seen) visit(it, k);
  }
}

/** Sparse repeat entries of one training step: entry e adds `weights[distance[e]]` at `[row, column]`. */
export interface RepeatEntries {
  /** `[row, column]` per entry, flattened. */
  readonly indices: Int32Array;
  /** Distance of the entry's item from its row's newest click (index into the weights). */
  readonly distance: Int32Array;
}

/** Where a training row's session lies: `items[start ..= end]`, `end` being the row's newest (input) click. */
export type RowSpan = (row: number) => { readonly items: ArrayLike<number>; readonly start: number; readonly end: number };

/**
 * The repeat entries of `rows` training rows: every recent item of the row's session (see
 * {@link forEachRecentItem}) at each output column that holds it. `columnsOf(item, add)` calls `add` once per
 * such column (merged cross-entropy columns hold an item once, BPR-max's sampled columns may hold it several
 * times); an item without a column this step is not in the loss and needs no entry.
 */
export function repeatEntries(rows: number, span: RowSpan, window: number, columnsOf: (item: number, add: (column: number) => void) => void): RepeatEntries {
  const indices: number[] = [], distance: number[] = [];
  for (let row = 0; row < rows; row++) {
    const { items, start, end } = span(row);
    forEachRecentItem(items, start, end, window, (it, k) => columnsOf(it, (col) => { indices.push(row, col); distance.push(k); }));
  }
  return { indices: Int32Array.from(indices), distance: Int32Array.from(distance) };
}

/**
 * The entries' logits for the sampled loss: `weights[distance]` at each `[row, column]` (differentiable in
 * `weights` `[window]`; the gather is src/backend/gather.ts's, whose gradient runs on wasm too). Undefined when
 * there is no entry.
 */
export function repeatLogits(weights: tf.Tensor1D, e: RepeatEntries): SparseLogitTensors | undefined {
  const K = e.distance.length;
  if (K === 0) return undefined;
  const values = tf.reshape(gatherRows(tf.reshape(weights, [-1, 1]) as tf.Tensor2D, tf.tensor1d(e.distance, 'int32')), [-1]) as tf.Tensor1D;
  return { indices: tf.tensor2d(e.indices, [K, 2], 'int32'), values };
}

/**
 * `scores` `[rows, cols]` plus the repeat entries (the training forward). A step without entries still makes
 * `weights` part of the graph (with a zero gradient), so autodiff returns a gradient for it.
 */
export function addRepeatLogits(scores: tf.Tensor2D, weights: tf.Tensor1D, e: RepeatEntries): tf.Tensor2D {
  const sparse = repeatLogits(weights, e);
  if (!sparse) return tf.add(scores, tf.mul(tf.sum(weights), 0)) as tf.Tensor2D;
  return tf.add(scores, scatterAdd(sparse.indices, sparse.values, scores.shape)) as tf.Tensor2D;
}

/** The serving forward: adds each session's repeat scores to its full score row (`[sessions, itemCount]`, in place). */
export function addRepeatScores(scores: Float32Array, itemCount: number, sessions: readonly { readonly items: readonly number[] }[], weights: Float32Array): Float32Array {
  sessions.forEach((s, i) => {
    forEachRecentItem(s.items, 0, s.items.length - 1, weights.length, (it, k) => {
      if (it >= 0 && it < itemCount) scores[i * itemCount + it] = scores[i * itemCount + it]! + weights[k]!;
    });
  });
  return scores;
}

/**
 * Top `k` with repeat scores from a top list that ignores them: `candidates` must be the session's top
 * `k + weights.length` items by the plain score (with the same filter), `plainScore(item)` the plain score of any
 * item. At most `weights.length` items change score, so the true top k lies among the candidates and the
 * session's recent items; exact when the candidates are. Ties go to the lower index, as in `topK`.
 */
export function repeatAwareTopK(candidates: Recommendation, session: { readonly items: readonly number[] }, weights: Float32Array, k: number, filter: ItemFilter | undefined, plainScore: (item: number) => number): Recommendation {
  const score = new Map<number, number>();
  candidates.items.forEach((it, j) => score.set(it, candidates.scores[j]!));
  const excluded = filter?.exclude ? new Set(filter.exclude) : undefined;
  forEachRecentItem(session.items, 0, session.items.length - 1, weights.length, (it, d) => {
    if (excluded?.has(it) || (filter?.allow && !filter.allow.has(it))) return;
    score.set(it, (score.get(it) ?? plainScore(it)) + weights[d]!);
  });
  const ranked = [...score].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
  return { items: Int32Array.from(ranked, (e) => e[0]), scores: Float32Array.from(ranked, (e) => e[1]) };
}
