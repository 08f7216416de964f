import { tf } from './gradients.js';

export const LAYER_NORM_EPSILON = 1e-5;

/** Layer normalisation over the last axis: `(x − mean) / sqrt(var + ε) · gamma + beta`. */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor): T {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LAYER_NORM_EPSILON))), gamma), beta);
}
