import { tf } from './tf.js';

/**
 * Row operations on the wasm backend's heap, for the models' tables: a row-copying `GatherV2`
 * ({@link installWasmRowGather}) and in-place row writes ({@link writeRows}).
 */

/**
 * A faster `GatherV2` for the wasm backend, for the case every model uses: rows along axis 0 of a float32 or
 * int32 tensor. The stock kernel computes each output element's source through its strides, about 40 ns an
 * element here (12.7 ms to gather 1,536 rows of 200 floats); copying each row whole within the wasm heap takes a
 * fraction of that. Other cases (another axis, batch dimensions, other types) go to the stock kernel, and so does
 * the gradient (it is registered by kernel name, which does not change).
 *
 * Installed once, after `setBackend('wasm')` (the stock kernel's setup has run by then, and is kept for a backend
 * initialised again).
 */
export function installWasmRowGather(): void {
  if (installed) return;
  const stock = tf.getKernel('GatherV2', 'wasm');
  if (!stock) return;
  installed = true;
  tf.unregisterKernel('GatherV2', 'wasm');
  tf.registerKernel({
    ...stock,
    kernelFunc: (args) => {
      const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
      const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
      const rank = x.shape.length;
      const backend = args.backend as unknown as WasmBackend;
      if (rank === 0 || (axis !== 0 && axis !== -rank) || batchDims !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') return stock.kernelFunc(args);
      const ids = backend.readSync(indices.dataId) as Int32Array;
      const rows = x.shape[0]!;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (!(id >= 0 && id < rows)) throw new Error(`GatherV2: the index value ${id} is not in [0, ${rows - 1}]`);
      }
      const rowShape = x.shape.slice(1);
      const out = backend.makeOutput([...indices.shape, ...rowShape], x.dtype);
      const rowBytes = 4 * rowShape.reduce((n, s) => n * s, 1);
      if (rowBytes === 0 || ids.length === 0) return out;
      // The heap view is read after makeOutput, which may have grown the memory.
      const heap = backend.wasm.HEAPU8;
      const from = backend.dataIdMap.get(x.dataId)!.memoryOffset;
      const to = backend.dataIdMap.get(out.dataId)!.memoryOffset;
      for (let i = 0; i < ids.length; i++) heap.copyWithin(to + i * rowBytes, from + ids[i]! * rowBytes, from + (ids[i]! + 1) * rowBytes);
      return out;
    },
  });
}

let installed = false;

/**
 * `table` with its rows `rows[i]` replaced by the rows of `updates`, `table` seen as `[rows of updates' row
 * size, …]` (`updates.size / rows.length` elements per row; `rows` distinct). On wasm, when `table` is float32
 * and holds its memory alone (no reshape of it alive), the rows are copied into `table` itself and `table` is
 * returned: a slot table of 131 MB (the transformer's keys and values at 4,096 sessions) is not copied whole on
 * every event, as `tensorScatterUpdate` does. Elsewhere a new tensor is returned and `table` is disposed. Either
 * way the result replaces `table`; `updates` stays the caller's.
 */
export function writeRows<T extends tf.Tensor>(table: T, rows: Int32Array, updates: tf.Tensor): T {
  if (rows.length === 0) return table;
  const rowSize = updates.size / rows.length;
  const rowCount = table.size / rowSize;
  if (!Number.isInteger(rowSize) || !Number.isInteger(rowCount)) throw new Error(`writeRows: ${updates.size} update values for ${rows.length} rows of a table of ${table.size}`);
  const backend = tf.backend() as unknown as WasmBackend;
  if (tf.getBackend() === 'wasm' && table.dtype === 'float32' && updates.dtype === 'float32' && backend.refCount(table.dataId) === 1) {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!(r >= 0 && r < rowCount)) throw new Error(`writeRows: row ${r} is not in [0, ${rowCount - 1}]`);
    }
    const heap = backend.wasm.HEAPU8;
    const to = backend.dataIdMap.get(table.dataId)!.memoryOffset;
    const from = backend.dataIdMap.get(updates.dataId)!.memoryOffset;
    const rowBytes = 4 * rowSize;
    for (let i = 0; i < rows.length; i++) heap.copyWithin(to + rows[i]! * rowBytes, from + i * rowBytes, from + (i + 1) * rowBytes);
    return table;
  }
  const next = tf.tidy(() => tf.reshape(tf.tensorScatterUpdate(tf.reshape(table, [rowCount, rowSize]), tf.tensor2d(rows, [rows.length, 1], 'int32'), tf.reshape(updates, [rows.length, rowSize])), table.shape)) as T;
  table.dispose();
  return next;
}

/** The parts of tfjs-backend-wasm's `BackendWasm` used here. */
interface WasmBackend {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  readSync(dataId: object): unknown;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  refCount(dataId: object): number;
}
