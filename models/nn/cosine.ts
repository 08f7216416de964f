import { tf } from './gradients.js';

/** Norm floor: a zero row stays zero instead of producing NaNs. */
export const MIN_NORM = 1e-8;

/**
 * Rows of `x` `[rows, d]` scaled to length `scale` (cosine scoring: unit rows on both sides, 1/τ folded into
 * one side). Differentiable.
 */
export function normalizeRows(x: tf.Tensor2D, scale = 1): tf.Tensor2D {
  const inv = tf.rsqrt(tf.maximum(tf.sum(tf.square(x), 1, true), MIN_NORM * MIN_NORM));
  return tf.mul(x, scale === 1 ? inv : tf.mul(inv, scale));
}
