import { tf } from '../../src/backend/tf.js';

/**
 * Counts tensor read-backs (dataSync, data, arraySync, array, bufferSync, buffer) while `fn` runs, by wrapping
 * the Tensor prototype's readers. Returns fn's result and the count.
 */
export async function countReadBacks<T>(fn: () => T | Promise<T>): Promise<{ result: T; reads: number }> {
  const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ['dataSync', 'data', 'arraySync', 'array', 'bufferSync', 'buffer'] as const;
  const saved = names.map((n) => proto[n]!);
  let reads = 0;
  let depth = 0;
  names.forEach((n, i) => {
    const orig = saved[i]!;
    proto[n] = function (this: unknown, ...args: unknown[]) {
      // array() calls data() internally, arraySync() calls dataSync(): count the outermost call only.
      if (depth === 0) reads++;
      depth++;
      try {
        const r = orig.apply(this, args);
        if (r instanceof Promise) return r.finally(() => { depth--; });
        depth--;
        return r;
      } catch (err) {
        depth--;
        throw err;
      }
    };
  });
  try {
    const result = await fn();
    return { result, reads };
  } finally {
    names.forEach((n, i) => { proto[n] = saved[i]!; });
  }
}
