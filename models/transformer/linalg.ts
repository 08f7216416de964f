import { mat, matMulRead, transposeJs, type ReadingComputation } from '../training/matmul.js';

/*
 * Matrix products as steps of a ReadingComputation (models/training/matmul.ts): `yield* mmReading(...)` inside
 * a generator, which runReadsSync drives with dataSync (cpu, wasm) and runReadsAsync with `await data()`
 * (webgpu). Transposes are done in JavaScript: a matMul with a transposed operand is much slower on wasm.
 */

/** `A[rows, inner] × B[inner, cols]` on the TF.js backend. */
export function* mmReading(a: Float32Array, rows: number, inner: number, b: Float32Array, cols: number): ReadingComputation<Float32Array> {
  return yield matMulRead(mat(a, rows, inner), mat(b, inner, cols));
}

/** `Aᵀ × B` for `A[rows, m]`, `B[rows, n]` → `[m, n]`. */
export function mmTAReading(a: Float32Array, rows: number, m: number, b: Float32Array, n: number): ReadingComputation<Float32Array> {
  return mmReading(transposeJs(a, rows, m), m, rows, b, n);
}

/** `A × Bᵀ` for `A[rows, k]`, `B[n, k]` → `[rows, n]`. */
export function mmTBReading(a: Float32Array, rows: number, k: number, b: Float32Array, n: number): ReadingComputation<Float32Array> {
  return mmReading(a, rows, k, transposeJs(b, n, k), n);
}
