import { describe, expect, it } from 'vitest';
import { tf } from '../../../models/nn/gradients.js';
import { bprMax, bprMaxReference, sampledMasks } from '../../../models/nn/ranking-losses.js';
import { Rng } from '../../../models/training/rng.js';
import { selectBackend } from '../../../src/backend/select-backend.js';

// The fused BPR-max op (closed-form gradient) against autodiff of the same loss written as plain ops: equal loss
// and equal gradients, with ELU on and off, repeated target items among the columns and a non-zero bpreg.
describe.each(['cpu', 'wasm'] as const)('fused BPR-max on %s', (backend) => {
  it.each([true, false])('equals autodiff of the plain-op loss (elu %s)', async (elu) => {
    await selectBackend({ backend, force: true, strict: true });
    const rng = new Rng(5);
    const rows = 5;
    // Row i's target is column i; item 2 and item 4 recur among the samples (and items 2 is two rows' target).
    const columns = Int32Array.from([2, 7, 2, 4, 9, 4, 2, 11, 3, 7, 12]);
    const scores = Float32Array.from({ length: rows * columns.length }, () => (rng.next() * 2 - 1) * 2);
    const read = (lossFn: typeof bprMax) => tf.tidy(() => {
      const masks = sampledMasks(columns, rows);
      const { value, grads } = tf.valueAndGrads((s: tf.Tensor) => lossFn({ scores: s as tf.Tensor2D, ...masks }, 0.7, elu))([tf.tensor2d(scores, [rows, columns.length])]);
      return { loss: value.dataSync()[0]!, grad: Array.from(grads[0]!.dataSync()) };
    });
    const fused = read(bprMax);
    const reference = read(bprMaxReference);
    expect(fused.loss).toBeCloseTo(reference.loss, 5);
    expect(reference.grad.some((g) => Math.abs(g) > 1e-3)).toBe(true);
    fused.grad.forEach((g, i) => expect(g).toBeCloseTo(reference.grad[i]!, 5));
  });
});
