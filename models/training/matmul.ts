import { tf } from '../../src/backend/tf.js';

/** A row-major matrix view. */
export interface Mat {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

export function mat(data: Float32Array, rows: number, cols: number): Mat {
  return { data, rows, cols };
}

/**
 * `op(A) × op(B)` on the active TF.js backend, with Float32Arrays in and out. Transposes are done
 * explicitly before a plain matMul, because a matMul with a transposed operand is 8–11× slower on wasm.
 * The training engine keeps parameters in Float32Arrays and sends only the matrix products to the
 * backend (its SIMD kernels are ~25× faster than JavaScript loops here).
 */
export function matMul(a: Mat, b: Mat, transposeA = false, transposeB = false): Float32Array {
  // The result leaves tidy through a closure variable: returning a TypedArray from tidy makes TF.js walk
  // every element looking for tensors (that walk cost more than the matMuls).
  let out: Float32Array | undefined;
  tf.tidy(() => {
    let ta: tf.Tensor2D = tf.tensor2d(a.data.subarray(0, a.rows * a.cols), [a.rows, a.cols]);
    let tb: tf.Tensor2D = tf.tensor2d(b.data.subarray(0, b.rows * b.cols), [b.rows, b.cols]);
    if (transposeA) ta = tf.transpose(ta);
    if (transposeB) tb = tf.transpose(tb);
    out = tf.matMul(ta, tb).dataSync() as Float32Array;
  });
  return out!;
}
