import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { writeRows } from '../../../src/backend/wasm-rows.js';

/** `tf.gather` on `backend`, read back with its shape. */
async function gatherOn(backend: 'wasm' | 'cpu', table: { values: number[]; shape: number[]; dtype: 'float32' | 'int32' }, ids: { values: number[]; shape: number[] }, axis = 0) {
  await selectBackend({ backend, force: true, strict: true });
  return tf.tidy(() => {
    const out = tf.gather(tf.tensor(table.values, table.shape, table.dtype), tf.tensor(ids.values, ids.shape, 'int32'), axis);
    return { shape: out.shape, values: Array.from(out.dataSync()), dtype: out.dtype };
  });
}

const seq = (n: number, scale = 1) => Array.from({ length: n }, (_, i) => (i - 7) * scale);

describe('wasm GatherV2 (whole-row copies along axis 0)', () => {
  const cases = [
    { name: '2-D float rows, repeated ids', table: { values: seq(6 * 5, 0.5), shape: [6, 5], dtype: 'float32' as const }, ids: { values: [5, 0, 3, 3, 5], shape: [5] } },
    { name: '3-D table (a window of vectors per row)', table: { values: seq(4 * 3 * 2, 1.25), shape: [4, 3, 2], dtype: 'float32' as const }, ids: { values: [1, 3, 1], shape: [3] } },
    { name: 'int32 table, 2-D ids', table: { values: seq(5 * 2), shape: [5, 2], dtype: 'int32' as const }, ids: { values: [4, 2, 0, 1], shape: [2, 2] } },
    { name: 'a vector (rank 1)', table: { values: seq(7, 3), shape: [7], dtype: 'float32' as const }, ids: { values: [6, 0, 6], shape: [3] } },
    { name: 'no ids', table: { values: seq(3 * 2), shape: [3, 2], dtype: 'float32' as const }, ids: { values: [], shape: [0] } },
  ];
  it.each(cases)('$name: the same shape and values as the cpu backend', async ({ table, ids }) => {
    const want = await gatherOn('cpu', table, ids);
    expect(await gatherOn('wasm', table, ids)).toEqual(want);
  });

  it('leaves other axes to the stock kernel (same result as cpu)', async () => {
    const table = { values: seq(4 * 3, 0.5), shape: [4, 3], dtype: 'float32' as const };
    const ids = { values: [2, 0, 2], shape: [3] };
    expect(await gatherOn('wasm', table, ids, 1)).toEqual(await gatherOn('cpu', table, ids, 1));
  });

  it('rejects an index outside the table, naming it', async () => {
    await selectBackend({ backend: 'wasm', force: true, strict: true });
    const table = tf.tensor2d([[1, 2], [3, 4]]);
    const ids = tf.tensor1d([1, 2], 'int32');
    expect(() => tf.gather(table, ids)).toThrow(/index value 2 is not in \[0, 1\]/);
    tf.dispose([table, ids]);
  });

  it('keeps the tensor count: no tensor leaks over many gathers', async () => {
    await selectBackend({ backend: 'wasm', force: true, strict: true });
    const table = tf.tensor2d(seq(50 * 4), [50, 4]);
    const before = { tensors: tf.memory().numTensors, data: tf.engine().backend.numDataIds() };
    for (let i = 0; i < 20; i++) tf.tidy(() => { tf.gather(table, tf.tensor1d([i, 49 - i], 'int32')); });
    expect({ tensors: tf.memory().numTensors, data: tf.engine().backend.numDataIds() }).toEqual(before);
    table.dispose();
  });
});

describe('writeRows', () => {
  /** A [4, 2, 3] table, rows 3 and 1 replaced by whole [2, 3] windows, or rows 7 and 0 of its [8, 3] view. */
  const table = seq(4 * 2 * 3, 0.5);
  const windows = seq(2 * 2 * 3, -2);
  const positions = seq(2 * 3, 3);

  it.each(['wasm', 'cpu'] as const)('on %s: the table with the rows replaced, whatever the row size', async (backend) => {
    await selectBackend({ backend, force: true, strict: true });
    for (const [rows, updates, shape] of [[[3, 1], windows, [2, 2, 3]], [[7, 0], positions, [2, 3]]] as const) {
      const t = tf.tensor3d(table, [4, 2, 3]);
      const u = tf.tensor(updates, [...shape]);
      const want = Array.from(table);
      const rowSize = updates.length / rows.length;
      rows.forEach((r, i) => { for (let k = 0; k < rowSize; k++) want[r * rowSize + k] = updates[i * rowSize + k]!; });
      const out = writeRows(t, Int32Array.from(rows), u);
      expect(out.shape).toEqual([4, 2, 3]);
      expect(Array.from(out.dataSync())).toEqual(want);
      // In place on wasm (the same tensor comes back); elsewhere a new tensor, and the old table is disposed.
      expect(out === t).toBe(backend === 'wasm');
      expect(t.isDisposed).toBe(backend !== 'wasm');
      tf.dispose([t, u, out]);
    }
  });

  it('does not write in place while another tensor shares the memory (a reshape of it is alive)', async () => {
    await selectBackend({ backend: 'wasm', force: true, strict: true });
    const t = tf.tensor2d(seq(4 * 2), [4, 2]);
    const view = tf.reshape(t, [8]);
    const u = tf.tensor2d([[100, 200]]);
    const out = writeRows(t, Int32Array.from([2]), u);
    expect(out).not.toBe(t);
    expect(t.isDisposed).toBe(true);
    expect(Array.from(view.dataSync())).toEqual(seq(4 * 2));
    expect(Array.from(out.dataSync())).toEqual([-7, -6, -5, -4, 100, 200, -1, 0]);
    tf.dispose([t, view, u, out]);
  });

  it('rejects a row outside the table', async () => {
    await selectBackend({ backend: 'wasm', force: true, strict: true });
    const t = tf.tensor2d(seq(3 * 2), [3, 2]);
    const u = tf.tensor2d([[1, 2]]);
    expect(() => writeRows(t, Int32Array.from([3]), u)).toThrow(/row 3 is not in \[0, 2\]/);
    tf.dispose([t, u]);
  });
});
