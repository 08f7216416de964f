import { tf } from './gradients.js';
import { matMul } from './dense.js';

/**
 * The item-attention readout (CORE's representation-consistent encoder, Hou et al. 2022): the session vector
 * at query position t is a weighted sum of the session's own input item embeddings,
 * `s_t = Σ_j α_tj · x_j` with `α_t· = softmax_j(v · h_j + mask_tj)`, where h_j is the transformer's output at
 * key position j. The result lives in the item embedding space, so scoring it against the (tied) item table
 * compares like with like.
 */

/** Each key position's readout logit `v · h_j`: `h [rows, d]`, `v [d]` → `[rows]`. */
export function readoutLogits(h: tf.Tensor2D, v: tf.Tensor): tf.Tensor1D {
  return tf.reshape(matMul(h, tf.reshape(v, [-1, 1]) as tf.Tensor2D), [-1]) as tf.Tensor1D;
}

/**
 * Session vectors `[B, Tq, d]` from key logits `[B, Tk]` and item rows `x [B, Tk, d]`; `mask` is additive and
 * broadcasts to `[B, Tq, Tk]` (the causal `[T, T]` for a window; `[B, 1, Tk]` for one query per sequence).
 */
export function itemAttention(logits: tf.Tensor2D, x: tf.Tensor3D, mask: tf.Tensor): tf.Tensor3D {
  const alpha = tf.softmax(tf.add(tf.expandDims(logits, 1), mask));
  return tf.matMul(alpha as tf.Tensor3D, x);
}
