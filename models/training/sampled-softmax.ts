import { tf } from '../../src/backend/tf.js';
import { transposeJs, type ReadingComputation } from './matmul.js';
import type { PopularitySampler } from './sampler.js';

/**
 * The output layer's columns with each item once. The sampled columns (the batch's targets, then the shared
 * negatives) repeat popular items; a repeated item's column is computed once and stands for all its copies
 * through `log(count)` in its logit, which leaves the sampled-softmax loss and its gradients unchanged and
 * saves the repeated products (≈ 16 % of 12,288 negatives on Diginetica).
 */
export interface MergedColumns {
  /** Distinct items, in order of first appearance. */
  readonly items: Int32Array;
  /** log(number of sampled columns holding the item). */
  readonly logCount: Float32Array;
  /** Merged column of each row's target. */
  readonly targetColumn: Int32Array;
}

/** Merges `columns` (`rows` targets first, row i's target at column i, then samples) per item. */
export function mergeColumns(columns: Int32Array, rows: number, itemCount: number): MergedColumns {
  const slot = mergeSlots(itemCount);
  const items: number[] = [];
  const counts: number[] = [];
  for (let j = 0; j < columns.length; j++) {
    const it = columns[j]!;
    let k = slot[it]!;
    if (k < 0) { k = items.length; slot[it] = k; items.push(it); counts.push(0); }
    counts[k]!++;
  }
  const targetColumn = new Int32Array(rows);
  for (let i = 0; i < rows; i++) targetColumn[i] = slot[columns[i]!]!;
  for (const it of items) slot[it] = -1;
  return { items: Int32Array.from(items), logCount: Float32Array.from(counts, Math.log), targetColumn };
}

/**
 * Runs `use` with a lookup from item to its merged column (−1 for an item without one). It is the table
 * {@link mergeColumns} merges with, filled from `merged` and reset afterwards.
 */
export function withColumnLookup<T>(merged: MergedColumns, itemCount: number, use: (columnOf: Int32Array) => T): T {
  const slot = mergeSlots(itemCount);
  merged.items.forEach((it, j) => { slot[it] = j; });
  try {
    return use(slot);
  } finally {
    for (const it of merged.items) slot[it] = -1;
  }
}

// One lookup table per catalogue size, reset after each use (a Map per step would cost more than the merge saves).
let slotTable = new Int32Array(0);
function mergeSlots(itemCount: number): Int32Array {
  if (slotTable.length < itemCount) slotTable = new Int32Array(itemCount).fill(-1);
  return slotTable;
}

/**
 * Per merged column, the amount subtracted from its logit in {@link sampledSoftmaxReading}: the logQ
 * correction (weight `logq` × log P(item) under the sampler), minus the output bias, minus log(copies). GRU4Rec and the transformer both build it here.
 */
export function columnShift(merged: MergedColumns, bias: Float32Array, sampler: PopularitySampler, logq: number): Float32Array {
  return Float32Array.from(merged.items, (it, j) => (logq > 0 ? logq * sampler.logProbability[it]! : 0) - bias[it]! - merged.logCount[j]!);
}

/**
 * Sparse additions to the logits: entry e adds `values[e]` at row `rows[e]`, merged column `columns[e]`
 * (entries at the same row and column add up). Their gradients come back in {@link SampledSoftmaxResult.extraGrad}.
 */
export interface SparseLogits {
  readonly rows: Int32Array;
  readonly columns: Int32Array;
  readonly values: Float32Array;
}

export interface SampledSoftmaxResult {
  /** Summed cross-entropy over the rows. */
  readonly loss: number;
  /** d(mean loss)/dH `[rows, d]`. */
  readonly dH: Float32Array;
  /** d(mean loss)/dO `[columns, d]`. */
  readonly dO: Float32Array;
  /** d(mean loss)/d(logit) summed per column (the output bias gradient). */
  readonly columnGrad: Float32Array;
  /** d(mean loss)/d(logit) at each {@link SparseLogits} entry. */
  readonly extraGrad?: Float32Array;
}

/**
 * Softmax cross-entropy of the merged sampled output layer, computed on the TF.js backend in one read:
 * logits `H·Oᵀ − shift` (shift = logQ correction − bias − log count, per column), row i's positive is one copy
 * of its target column. Only H, O and per-row/per-column vectors cross to the backend, and only the gradients
 * come back: the `[rows, columns]` score matrix (10⁷ values) never does. Equal to the softmax over
 * every sampled column with the target's other copies masked (test: test/models/training/sampled-softmax.test.ts).
 *
 * With Z′ the softmax normaliser over merged columns and m_i the merged target column's logit, the true
 * normaliser counts the target once: Z = Z′ − (k−1)/k · e^{m_i}. The gradient is E − C with
 * E = e^{logits}/Z (dense, on the backend) and C one entry per row, (e^{m_i}/Z)(1 − 1/k) + 1 at the target
 * column, applied to the three products in JavaScript.
 */
export function* sampledSoftmaxReading(h: Float32Array, rows: number, d: number, o: Float32Array, merged: MergedColumns, shift: Float32Array, extra?: SparseLogits): ReadingComputation<SampledSoftmaxResult> {
  const M = merged.items.length, P = rows;
  const flat = new Int32Array(P);
  const targetLogCount = new Float32Array(P);
  for (let i = 0; i < P; i++) {
    const c = merged.targetColumn[i]!;
    flat[i] = i * M + c;
    targetLogCount[i] = merged.logCount[c]!;
  }
  // Both products take their transposed operand pre-transposed: a transposed matMul is much slower on wasm.
  const hT = transposeJs(h, P, d), oT = transposeJs(o, M, d);
  const K = extra ? extra.rows.length : 0;
  const extraIndex = new Int32Array(2 * K);
  for (let e = 0; e < K; e++) { extraIndex[2 * e] = extra!.rows[e]!; extraIndex[2 * e + 1] = extra!.columns[e]!; }
  const read: Float32Array = yield () => {
    let logits = tf.sub(tf.matMul(tf.tensor2d(h, [P, d]), tf.tensor2d(oT, [d, M])), tf.tensor1d(shift));
    const at = K > 0 ? tf.tensor2d(extraIndex, [K, 2], 'int32') : undefined;
    if (at && extra) logits = tf.add(logits, tf.scatterND(at, tf.tensor1d(extra.values), [P, M]));
    const max = tf.max(logits, 1, true);
    const x = tf.exp(tf.sub(logits, max));
    const lseMerged = tf.add(max, tf.log(tf.sum(x, 1, true)));
    const targetLogit = tf.reshape(tf.gather(tf.reshape(logits, [P * M]), tf.tensor1d(flat, 'int32')), [P, 1]);
    const logK = tf.tensor2d(targetLogCount, [P, 1]);
    // Z = Z′(1 − p′(1 − 1/k)) with p′ the merged target column's softmax mass.
    const pMerged = tf.exp(tf.sub(targetLogit, lseMerged));
    const lse = tf.add(lseMerged, tf.log(tf.sub(1, tf.mul(pMerged, tf.sub(1, tf.exp(tf.neg(logK)))))));
    const lossRows = tf.sub(lse, tf.sub(targetLogit, logK));
    const e = tf.mul(x, tf.exp(tf.sub(max, lse)));
    const dH = tf.matMul(e, tf.tensor2d(o, [M, d]));
    const dOT = tf.matMul(tf.tensor2d(hT, [d, P]), e);
    const targetMass = tf.exp(tf.sub(targetLogit, lse));
    const parts = [tf.reshape(dH, [P * d]), tf.reshape(dOT, [d * M]), tf.sum(e, 0), tf.reshape(lossRows, [P]), tf.reshape(targetMass, [P])];
    if (at) parts.push(tf.gatherND(e, at) as tf.Tensor1D);
    return tf.concat(parts);
  };
  let at = 0;
  const take = (n: number) => read.subarray(at, (at += n));
  const dH = take(P * d).slice(), dOT = take(d * M), columnGrad = take(M).slice(), lossRows = take(P), targetMass = take(P);
  const extraGrad = K > 0 ? take(K).slice() : undefined;
  const corrections = new Float32Array(P);
  const dO = transposeJs(dOT, d, M);
  let loss = 0;
  const inv = 1 / P;
  for (let i = 0; i < P; i++) {
    loss += lossRows[i]!;
    const c = merged.targetColumn[i]!;
    const corr = targetMass[i]! * (1 - Math.exp(-merged.logCount[c]!)) + 1;
    corrections[i] = corr;
    for (let k = 0; k < d; k++) {
      dH[i * d + k] = dH[i * d + k]! - corr * o[c * d + k]!;
      dO[c * d + k] = dO[c * d + k]! - corr * h[i * d + k]!;
    }
    columnGrad[c] = columnGrad[c]! - corr;
  }
  for (let i = 0; i < dH.length; i++) dH[i] = dH[i]! * inv;
  for (let i = 0; i < dO.length; i++) dO[i] = dO[i]! * inv;
  for (let j = 0; j < M; j++) columnGrad[j] = columnGrad[j]! * inv;
  if (extra && extraGrad) {
    for (let e = 0; e < K; e++) {
      const i = extra.rows[e]!;
      const g = extra.columns[e] === merged.targetColumn[i] ? extraGrad[e]! - corrections[i]! : extraGrad[e]!;
      extraGrad[e] = g * inv;
    }
  }
  return extraGrad ? { loss, dH, dO, columnGrad, extraGrad } : { loss, dH, dO, columnGrad };
}
