import { tf } from './tf.js';

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

/** The parts of tfjs-backend-wasm's `BackendWasm` used here. */
interface WasmBackend {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  readSync(dataId: object): unknown;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}
