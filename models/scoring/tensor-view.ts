import { tf } from '../../src/backend/tf.js';

interface WasmBackendInternals {
  wasm?: { HEAPU8?: Uint8Array };
  dataIdMap?: { get(id: unknown): { memoryOffset?: number; dtype?: string } | undefined };
}

/**
 * Calls `fn` with the float32 values of `t` and returns its result. On the wasm backend this is a view of the
 * tensor's memory (no copy: `dataSync` of a 256 × 43k score matrix copies 44 MB, ~20% of exact top-k); the
 * view is only valid inside `fn`, which must not run TF.js ops. Elsewhere it is `dataSync()`.
 */
export function withFloat32View<R>(t: tf.Tensor, fn: (values: Float32Array) => R): R {
  if (t.dtype === 'float32' && tf.getBackend() === 'wasm') {
    const backend = tf.backend() as unknown as WasmBackendInternals;
    const entry = backend.dataIdMap?.get(t.dataId);
    const heap = backend.wasm?.HEAPU8;
    if (entry?.memoryOffset !== undefined && heap && entry.memoryOffset % 4 === 0) {
      return fn(new Float32Array(heap.buffer, heap.byteOffset + entry.memoryOffset, t.size));
    }
  }
  return fn(t.dataSync() as Float32Array);
}
