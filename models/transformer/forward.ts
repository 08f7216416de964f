import { tf } from '../nn/gradients.js';
import { causalMask, multiHeadAttention } from '../nn/attention.js';
import { dense, dropout } from '../nn/dense.js';
import { layerNorm } from '../nn/layer-norm.js';
import { itemAttention, readoutLogits } from '../nn/readout.js';
import { gatherRows } from '../../src/backend/gather.js';
import type { TransformerConfig } from './config.js';
import type { TransformerParams } from './params.js';

/**
 * The transformer's one forward, in TF.js ops: training (with dropout, under autodiff), the scorer's
 * whole-window recompute and its KV-cache step all call {@link embed}, {@link encode} and the readout below;
 * only the attention's keys differ (the window itself, or the cached keys plus the new one).
 */

/** Dense weights as tensors, by the names of {@link TransformerParams.dense}. */
export type DenseTensors = ReadonlyMap<string, tf.Tensor>;

/** Uploads the dense weights (positions, time gaps, blocks, final layer norm, readout, scoring terms). Caller disposes. */
export function uploadDense(p: TransformerParams): Map<string, tf.Tensor> {
  return new Map(p.dense.map((w) => [w.name, tf.tensor(w.values, w.shape, 'float32')]));
}

/** Dropout keep-multiplier masks of one block (training only). */
export interface BlockDropout {
  readonly attention?: tf.Tensor;
  readonly feedForward?: tf.Tensor;
}

/**
 * Self-attention of block `block` for its queries, keys and values (each `[rows, d]`): the causal window
 * ({@link windowAttention}) or one new position over a session's cached keys (the scorer's step).
 */
export type Attend = (block: number, q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D) => tf.Tensor2D;

/** Causal self-attention within B right-padded windows of T positions (rows b·T + t). */
export function windowAttention(c: TransformerConfig, B: number, T: number): Attend {
  const mask = causalMask(T);
  return (_block, q, k, v) => multiHeadAttention(q, k, v, { B, Tq: T, Tk: T, heads: c.heads }, mask);
}

/**
 * Input embedding `[rows, d]`: item rows + position rows (+ time-gap rows), times the embedding dropout mask.
 * `positions[r]` is row r's position in its window, `timeBuckets[r]` its time-gap bucket.
 */
export function embed(w: DenseTensors, itemRows: tf.Tensor2D, positions: Int32Array, timeBuckets?: Int32Array, dropMask?: tf.Tensor): tf.Tensor2D {
  let x = tf.add(itemRows, gatherRows(w.get('position_table') as tf.Tensor2D, tf.tensor1d(positions, 'int32')));
  const time = w.get('time_table');
  if (time && timeBuckets) x = tf.add(x, gatherRows(time as tf.Tensor2D, tf.tensor1d(timeBuckets, 'int32')));
  return dropout(x as tf.Tensor2D, dropMask);
}

export interface Encoded {
  /** Final-layer-norm output for every row `[rows, d]`. */
  readonly hidden: tf.Tensor2D;
  /** Per block, the keys and values the rows produced `[rows, d]` (heads side by side), for the KV cache. */
  readonly keys: tf.Tensor2D[];
  readonly values: tf.Tensor2D[];
}

/**
 * Pre-LN transformer blocks over embedded rows `x` `[rows, d]`: causal multi-head self-attention (through
 * `attend`) and a ReLU feed-forward layer, each with a residual and dropout, then a final layer norm.
 * Causality makes right padding harmless: a real position never attends to the padded positions after it.
 */
export function encode(w: DenseTensors, c: TransformerConfig, x: tf.Tensor2D, attend: Attend, drop?: readonly BlockDropout[]): Encoded {
  const keys: tf.Tensor2D[] = [];
  const values: tf.Tensor2D[] = [];
  let h = x;
  for (let b = 0; b < c.blocks; b++) {
    const g = (n: string) => w.get(`block_${b}/${n}`)!;
    const a = layerNorm(h, g('ln1_gamma'), g('ln1_beta'));
    const q = dense(a, g('wq'), g('bq'));
    const k = dense(a, g('wk'), g('bk'));
    const v = dense(a, g('wv'), g('bv'));
    keys.push(k);
    values.push(v);
    h = tf.add(h, dropout(dense(attend(b, q, k, v), g('wo'), g('bo')), drop?.[b]?.attention));
    const f = dense(tf.relu(dense(layerNorm(h, g('ln2_gamma'), g('ln2_beta')), g('w1'), g('b1'))), g('w2'), g('b2'));
    h = tf.add(h, dropout(f, drop?.[b]?.feedForward));
  }
  return { hidden: layerNorm(h, w.get('final_ln_gamma')!, w.get('final_ln_beta')!), keys, values };
}

/**
 * The item-attention readout over windows: session vectors `[B·T, d]` from the outputs `hidden` `[B·T, d]` and
 * the inputs' item rows `items` `[B·T, d]` (through the embedding dropout in training, no positions), causal.
 */
export function windowReadout(w: DenseTensors, hidden: tf.Tensor2D, items: tf.Tensor2D, B: number, T: number): tf.Tensor2D {
  const logits = tf.reshape(readoutLogits(hidden, w.get('readout_v')!), [B, T]) as tf.Tensor2D;
  const d = hidden.shape[1];
  return tf.reshape(itemAttention(logits, tf.reshape(items, [B, T, d]) as tf.Tensor3D, causalMask(T)), [B * T, d]) as tf.Tensor2D;
}

/** Positions `[B·T]` of right-padded windows: t for row b·T + t (0 for padding). */
export function windowPositions(lengths: readonly number[], T: number): Int32Array {
  const out = new Int32Array(lengths.length * T);
  lengths.forEach((n, b) => { for (let t = 0; t < n; t++) out[b * T + t] = t; });
  return out;
}

/** Item rows `[B·T, d]` of right-padded windows, copied from the host table (zeros for padding). */
export function gatherWindowRows(table: Float32Array, d: number, windows: readonly ArrayLike<number>[], T: number): Float32Array {
  const out = new Float32Array(windows.length * T * d);
  windows.forEach((win, b) => {
    for (let t = 0; t < win.length; t++) out.set(table.subarray(win[t]! * d, (win[t]! + 1) * d), (b * T + t) * d);
  });
  return out;
}
