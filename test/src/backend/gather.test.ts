import { describe, expect, it } from 'vitest';
import { gatherRows } from '../../../src/backend/gather.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';

describe.each(['wasm', 'cpu'] as const)('gatherRows on %s', (backend) => {
  it('gathers rows and sums the gradients of duplicate ids (scatterND, no UnsortedSegmentSum)', async () => {
    await selectBackend({ backend, force: true, strict: true });
    const table = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const ids = tf.tensor1d([2, 0, 2, 2], 'int32');
    const upstream = tf.tensor2d([[1, 10], [2, 20], [3, 30], [4, 40]]);
    // dy = upstream: only the custom gradient of gatherRows is involved (core registers no op gradients).
    const grad = tf.grad((t: tf.Tensor) => gatherRows(t as tf.Tensor2D, ids))(table, upstream);
    expect(Array.from(gatherRows(table, ids).dataSync())).toEqual([5, 6, 1, 2, 5, 6, 5, 6]);
    // Row 2 appears three times: its gradient is the sum of three upstream rows.
    expect(Array.from(grad.dataSync())).toEqual([2, 20, 0, 0, 8, 80, 0, 0]);
    tf.dispose([table, ids, upstream, grad]);
  });
});
