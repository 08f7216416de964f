import { tf } from '../../src/backend/tf.js';
import { NextclickError } from '../../src/errors.js';

/** Backends whose tensors can be read synchronously (`dataSync`) in Node; on the others (webgpu, webgl) it throws. */
const syncReadBackends: ReadonlySet<string> = new Set(['cpu', 'wasm', 'tensorflow']);

/**
 * Whether the active backend supports `dataSync()` on every tensor. WebGPU in Node does not ("OffscreenCanvas
 * is not defined" for tensors that live on the GPU), so code that may run there reads with `await data()`.
 */
export function backendReadsSync(): boolean {
  return syncReadBackends.has(tf.getBackend());
}

/** Throws a BACKEND_UNAVAILABLE error naming `alternative` when the active backend cannot read synchronously. */
export function assertSyncReads(what: string, alternative: string): void {
  if (!backendReadsSync()) {
    throw new NextclickError('BACKEND_UNAVAILABLE', `${what} reads tensors synchronously, which the ${tf.getBackend()} backend cannot do in Node; use ${alternative} (it awaits data())`);
  }
}

/**
 * A computation whose result tensor is read back into a Float32Array: run inside `tf.tidy` (its
 * intermediates are freed), read, then the result is disposed.
 */
export type TensorRead = () => tf.Tensor;

/** `fn`'s tensor read with `dataSync()` (only on backends where {@link backendReadsSync}). */
export function readSync(fn: TensorRead): Float32Array {
  // The result leaves tidy through a closure variable: returning a TypedArray from tidy makes TF.js walk every
  // element looking for tensors (that walk cost more than the matMuls).
  let out: Float32Array | undefined;
  tf.tidy(() => { out = fn().dataSync() as Float32Array; });
  return out!;
}

/** `fn`'s tensor read with `await data()`: safe on every backend. */
export async function readAsync(fn: TensorRead): Promise<Float32Array> {
  const t = tf.tidy(fn);
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/**
 * A computation written once as a generator that yields the tensors it needs read ({@link TensorRead}s) and
 * receives their values: {@link runReadsSync} drives it with `dataSync()` (cpu, wasm, tensorflow: no promise
 * per read), {@link runReadsAsync} with `await data()` (every backend).
 */
export type ReadingComputation<T> = Generator<TensorRead, T, Float32Array>;

export function runReadsSync<T>(computation: ReadingComputation<T>): T {
  let r = computation.next();
  while (!r.done) r = computation.next(readSync(r.value));
  return r.value;
}

export async function runReadsAsync<T>(computation: ReadingComputation<T>): Promise<T> {
  let r = computation.next();
  while (!r.done) {
    const values = backendReadsSync() ? readSync(r.value) : await readAsync(r.value);
    r = computation.next(values);
  }
  return r.value;
}

/** Runs `computation` synchronously where the backend reads synchronously, else as a Promise (webgpu). */
export function runReads<T>(computation: ReadingComputation<T>): T | Promise<T> {
  return backendReadsSync() ? runReadsSync(computation) : runReadsAsync(computation);
}
