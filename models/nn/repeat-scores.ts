import { tf } from './gradients.js';
import { gatherRows } from '../../src/backend/gather.js';
import { scatterAdd, type SparseLogitTensors } from './sampled-softmax.js';

/**
 * The repeat-aware layer shared by GRU4Rec and the transformer: a learned score per recency, added to the items
 * the session already holds. `weights[k]` goes to an item whose latest occurrence is k clicks before the
 * newest one (0 = the newest item itself), for the session's last `weights.length` clicks; every other item
 * gets nothing. Training adds the same amounts to the sampled logits as sparse entries (autodiff through
 * {@link repeatLogits}: a gather of the weights and a scatter-add), serving adds them to the score rows from `SessionState.items`
 * ({@link repeatAdditions}, applied on the backend before the top-k).
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

/**
 * The serving forward as sparse additions to the sessions' score rows (`ScoreAdditions` of
 * models/scoring/item-scoring-table.ts): row b, each recent item of session b, `weights[distance]`.
 */
export function repeatAdditions(sessions: readonly { readonly items: readonly number[] }[], weights: Float32Array, itemCount: number): { rows: Int32Array; items: Int32Array; values: Float32Array } {
  const rows: number[] = [], items: number[] = [], values: number[] = [];
  sessions.forEach((s, b) => {
    forEachRecentItem(s.items, 0, s.items.length - 1, weights.length, (it, k) => {
      if (it >= 0 && it < itemCount) { rows.push(b); items.push(it); values.push(weights[k]!); }
    });
  });
  return { rows: Int32Array.from(rows), items: Int32Array.from(items), values: Float32Array.from(values) };
}
