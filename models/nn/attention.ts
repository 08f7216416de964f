import { tf } from './gradients.js';

/** Additive mask value of a position that must not be attended to. */
export const MASKED = -1e9;

/** Additive causal mask `[T, T]`: 0 on and below the diagonal, {@link MASKED} above. */
export function causalMask(T: number): tf.Tensor2D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = MASKED;
  return tf.tensor2d(m, [T, T]);
}

/**
 * Additive mask `[B, 1, Tk]` that hides key positions `lengths[b]..Tk−1` of row b (a batch of single queries
 * over keys of different lengths, e.g. the KV-cache step).
 */
export function lengthMask(lengths: readonly number[], Tk: number): tf.Tensor3D {
  const m = new Float32Array(lengths.length * Tk);
  lengths.forEach((n, b) => m.fill(MASKED, b * Tk + n, (b + 1) * Tk));
  return tf.tensor3d(m, [lengths.length, 1, Tk]);
}

/** Shapes of one {@link multiHeadAttention} call: B sequences, Tq queries and Tk keys each, `heads` heads. */
export interface AttentionShape {
  readonly B: number;
  readonly Tq: number;
  readonly Tk: number;
  readonly heads: number;
}

/**
 * Scaled dot-product multi-head attention. `q` is `[B·Tq, d]`, `k` and `v` `[B·Tk, d]` (heads side by side in
 * d); `mask` is additive and broadcasts to `[B, Tq, Tk]` (`[Tq, Tk]` for a causal window, `[B, 1, Tk]` for
 * per-sequence lengths). Returns `[B·Tq, d]`. Training (causal window), whole-window recompute and the
 * KV-cache step (one query over the cached keys) all run this.
 */
export function multiHeadAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, s: AttentionShape, mask: tf.Tensor): tf.Tensor2D {
  const { B, Tq, Tk, heads: H } = s;
  const d = q.shape[1], dh = d / H;
  const qh = tf.transpose(tf.reshape(q, [B, Tq, H, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
  const kT = tf.transpose(tf.reshape(k, [B, Tk, H, dh]), [0, 2, 3, 1]) as tf.Tensor4D;
  const vh = tf.transpose(tf.reshape(v, [B, Tk, H, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
  // The mask gets a heads axis: [Tq, Tk] broadcasts as is, [B, Tq|1, Tk] becomes [B, 1, Tq|1, Tk].
  const m = mask.rank === 3 ? tf.expandDims(mask, 1) : mask;
  const scores = tf.add(tf.mul(tf.matMul(qh, kT), 1 / Math.sqrt(dh)), m);
  const out = tf.matMul(tf.softmax(scores), vh);
  return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B * Tq, d]) as tf.Tensor2D;
}
