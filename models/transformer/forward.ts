import { tf } from '../../src/backend/tf.js';
import { timeBucket, type TransformerConfig } from './config.js';
import type { TransformerParams } from './params.js';
import type { ReadingComputation } from '../training/matmul.js';

/** Dense weights as tensors, by the names of {@link TransformerParams.dense}. */
export type DenseTensors = ReadonlyMap<string, tf.Tensor>;

/** Dropout keep-multiplier factory (training only): returns a `[rows, cols]` mask or undefined for none. */
export type MaskSource = (rows: number, cols: number) => tf.Tensor2D | undefined;

export const LAYER_NORM_EPSILON = 1e-5;

/** Uploads the dense weights (positions, time gaps, blocks, final layer norm). Caller disposes. */
export function uploadDense(p: TransformerParams): Map<string, tf.Tensor> {
  return new Map(p.dense.map((w) => [w.name, tf.tensor(w.values, w.shape, 'float32')]));
}

export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LAYER_NORM_EPSILON))), gamma), beta);
}

function dense(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.add(tf.matMul(x, w as tf.Tensor2D), b);
}

function maybeDrop(x: tf.Tensor2D, masks: MaskSource | undefined): tf.Tensor2D {
  const m = masks?.(x.shape[0], x.shape[1]);
  return m ? tf.mul(x, m) : x;
}

/** Additive causal mask `[T, T]`: 0 on and below the diagonal, −1e9 above. */
export function causalMask(T: number): tf.Tensor2D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return tf.tensor2d(m, [T, T]);
}

export interface SequenceOutput {
  /** Final-layer-norm output for every position `[B·T, d]`. */
  readonly hidden: tf.Tensor2D;
  /** Per block, keys and values `[B·T, d]` (heads side by side), for the KV cache. */
  readonly keys: tf.Tensor2D[];
  readonly values: tf.Tensor2D[];
}

/**
 * The transformer over right-padded windows: `x` is `[B·T, d]` (embedded inputs, row b·T + t for position t
 * of window b). Pre-LN blocks of causal multi-head self-attention and a ReLU feed-forward layer, residuals,
 * dropout (through `masks`), and a final layer norm. Causality makes right padding harmless: a real
 * position never attends to the padded positions after it.
 */
export function forwardSequence(w: DenseTensors, c: TransformerConfig, x: tf.Tensor2D, B: number, T: number, masks?: MaskSource): SequenceOutput {
  const d = c.hiddenSize, H = c.heads, dh = d / H;
  const mask = causalMask(T);
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
    const heads = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]);
    const kT = tf.transpose(tf.reshape(k, [B, T, H, dh]), [0, 2, 3, 1]);
    const s = tf.add(tf.mul(tf.matMul(heads(q) as tf.Tensor4D, kT as tf.Tensor4D), 1 / Math.sqrt(dh)), mask);
    const o = tf.reshape(tf.transpose(tf.matMul(tf.softmax(s), heads(v) as tf.Tensor4D), [0, 2, 1, 3]), [B * T, d]) as tf.Tensor2D;
    h = tf.add(h, maybeDrop(dense(o, g('wo'), g('bo')), masks));
    const f = dense(tf.relu(dense(layerNorm(h, g('ln2_gamma'), g('ln2_beta')), g('w1'), g('b1'))), g('w2'), g('b2'));
    h = tf.add(h, maybeDrop(f, masks));
  }
  return { hidden: layerNorm(h, w.get('final_ln_gamma')!, w.get('final_ln_beta')!), keys, values };
}

/**
 * Embeds one window per row into `out` (`[B·T, d]`, right-padded with zeros): item row + position row
 * (+ time-gap row). `windows[b]` lists item indices; `gaps[b][t]` is the time since the previous event (ms)
 * or undefined. Positions count from the window's first item. `dropMask` multiplies element-wise.
 */
export function embedWindows(p: TransformerParams, windows: readonly ArrayLike<number>[], T: number, gaps?: readonly (ArrayLike<number | undefined> | undefined)[], dropMask?: Float32Array): Float32Array {
  const c = p.config, d = c.hiddenSize;
  const pos = p.get('position_table');
  const time = c.timeBuckets > 0 ? p.get('time_table') : undefined;
  const out = new Float32Array(windows.length * T * d);
  windows.forEach((win, b) => {
    for (let t = 0; t < win.length; t++) {
      const o = (b * T + t) * d;
      const e = win[t]! * d;
      for (let i = 0; i < d; i++) out[o + i] = p.itemTable[e + i]! + pos[t * d + i]!;
      if (time) {
        const tb = timeBucket(gaps?.[b]?.[t], c.timeBuckets) * d;
        for (let i = 0; i < d; i++) out[o + i] = out[o + i]! + time[tb + i]!;
      }
      if (dropMask) for (let i = 0; i < d; i++) out[o + i] = out[o + i]! * dropMask[o + i]!;
    }
  });
  return out;
}

/** {@link forwardSequence}'s outputs as Float32Arrays, each `[B·T, d]`. */
export interface SequenceArrays {
  readonly hidden: Float32Array;
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
}

/** Runs {@link forwardSequence} over embedded windows `x` and reads hidden, keys and values back in one read. */
export function* readSequence(w: DenseTensors, c: TransformerConfig, x: Float32Array, B: number, T: number): ReadingComputation<SequenceArrays> {
  const d = c.hiddenSize;
  // One read: [hidden; keys per block; values per block].
  const all = yield () => {
    const r = forwardSequence(w, c, tf.tensor2d(x, [B * T, d]), B, T);
    return tf.concat([r.hidden, ...r.keys, ...r.values], 0);
  };
  const part = B * T * d;
  const slab = (i: number) => all.subarray(i * part, (i + 1) * part);
  return {
    hidden: slab(0),
    keys: Array.from({ length: c.blocks }, (_, i) => slab(1 + i)),
    values: Array.from({ length: c.blocks }, (_, i) => slab(1 + c.blocks + i)),
  };
}
