import { describe, expect, it } from 'vitest';
import { tf } from '../../../models/nn/gradients.js';

describe('op gradients', () => {
  it('are registered, so tf.grads differentiates a small graph', () => {
    const f = tf.grads((a: tf.Tensor) => tf.sum(tf.sigmoid(tf.matMul(a as tf.Tensor2D, a as tf.Tensor2D))));
    const [g] = f([tf.ones([2, 2])]);
    // d/da Σ σ(a·a) at a = 1: each entry 2 · 2 · σ'(2).
    const s = 1 / (1 + Math.exp(-2));
    const want = 4 * s * (1 - s);
    for (const v of g!.dataSync()) expect(v).toBeCloseTo(want, 5);
  });
});
