/**
 * Sampled ranking losses of GRU4Rec. BPR-max runs here in JavaScript over a score matrix `[rows, cols]`
 * (row-major): row i's target is column i; the other columns are negatives (the other rows' targets, then the
 * shared samples), and a column holding the same item as row i's target is not a negative for row i.
 * Cross-entropy has the same column semantics and runs on the TF.js backend (sampled-softmax.ts).
 */
export type LossName = 'cross-entropy' | 'bpr-max';

export interface LossInput {
  readonly scores: Float32Array;
  readonly rows: number;
  readonly cols: number;
  /** Item index of every column. */
  readonly colItems: Int32Array;
}

/**
 * BPR-max: `−log Σ_j s_j σ(r_t − r_j) + bpreg · Σ_j s_j r_j²`, with s = softmax over the negatives' scores.
 * `elu` applies ELU(1) to the scores first (the published best setting on Diginetica).
 */
export function bprMaxLoss(x: LossInput, grad: Float32Array, bpreg: number, elu: boolean): number {
  const { scores, rows, cols, colItems } = x;
  const inv = 1 / rows;
  if (scratchY.length < cols) { scratchY = new Float64Array(cols); scratchSig = new Float64Array(cols); }
  const ys = scratchY, sigs = scratchSig;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const target = colItems[i]!;
    const yt = act(scores[o + i]!, elu);
    let max = -Infinity;
    for (let j = 0; j < cols; j++) {
      const y = act(scores[o + j]!, elu);
      ys[j] = y;
      if (j !== i && colItems[j] !== target && y > max) max = y;
    }
    // Softmax weights over the negatives (kept in grad for now) and the sums P = Σ sσ, Q = Σ s y², Σ sσ(1−σ).
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      if (j === i || colItems[j] === target) { grad[o + j] = 0; continue; }
      const e = Math.exp(ys[j]! - max);
      grad[o + j] = e;
      sum += e;
    }
    if (sum === 0) continue;
    const norm = 1 / sum;
    let p = 0, q = 0, tgt = 0;
    for (let j = 0; j < cols; j++) {
      const w = grad[o + j]!;
      if (w === 0) continue;
      const s = w * norm;
      const y = ys[j]!;
      const sig = 1 / (1 + Math.exp(y - yt));
      sigs[j] = sig;
      p += s * sig;
      q += s * y * y;
      tgt += s * sig * (1 - sig);
    }
    total += -Math.log(p + 1e-24) + bpreg * q;
    const pInv = 1 / (p + 1e-24);
    for (let j = 0; j < cols; j++) {
      const w = grad[o + j]!;
      if (w === 0) continue;
      const s = w * norm;
      const y = ys[j]!;
      const sig = sigs[j]!;
      const dy = -s * (sig * sig - p) * pInv + bpreg * s * (y * y - q + 2 * y);
      grad[o + j] = dy * dAct(scores[o + j]!, y, elu) * inv;
    }
    grad[o + i] = -tgt * pInv * dAct(scores[o + i]!, yt, elu) * inv;
  }
  return total;
}

let scratchY = new Float64Array(0);
let scratchSig = new Float64Array(0);

function act(r: number, elu: boolean): number {
  return elu && r < 0 ? Math.exp(r) - 1 : r;
}

function dAct(r: number, y: number, elu: boolean): number {
  return elu && r < 0 ? y + 1 : 1;
}

/** Adds `colBias[j]` to every row of `scores` `[rows, cols]` (row-major passes: a column walk is several times slower). */
export function addColumnBias(scores: Float32Array, rows: number, cols: number, colBias: Float32Array): void {
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) scores[base + j] = scores[base + j]! + colBias[j]!;
  }
}

/** Adds the column sums of `m` `[rows, cols]` into `sums` (the output bias gradient), in row-major passes. */
export function addColumnSums(m: Float32Array, rows: number, cols: number, sums: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) sums[j] = sums[j]! + m[base + j]!;
  }
}
