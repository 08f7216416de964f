import { describe, expect, it } from 'vitest';
import { withFloat32View } from '../../../models/scoring/tensor-view.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';

describe('withFloat32View', () => {
  it.each(['wasm', 'cpu'] as const)('reads the same values as dataSync on %s, including after other tensors were freed', async (backend) => {
    await selectBackend({ backend, force: true, strict: true });
    const junk = tf.ones([1000]);
    const a = tf.tidy(() => tf.add(tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([1, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3], [3, 4])), tf.tensor1d([0.5, 0, 0, 0])));
    junk.dispose();
    const want = Array.from(a.dataSync());
    expect(withFloat32View(a, (v) => Array.from(v))).toEqual(want);
    expect(want).toEqual([9.5, 11, 13, 14, 21.5, 23, 28, 32]);
    a.dispose();
  });
});
