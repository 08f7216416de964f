/** A score matrix `[rows, cols]` (row-major); row i's target is column i. */
interface LossInput {
  readonly scores: Float32Array;
  readonly rows: number;
  readonly cols: number;
  /** Item index of every column. */
  readonly colItems: Int32Array;
}

// The unmerged sampled-softmax cross-entropy, written out in JavaScript: the reference the backend's merged
// version (models/training/sampled-softmax.ts) is tested against.

/**
 * Softmax cross-entropy. With `logQ` (log sampling probability per column) the logits become
 * `score − logQ`, which corrects the popularity bias of sampled negatives (the logQ correction); a per-column
 * bias can be folded in the same way (pass logQ − bias). `columnSums`, when given, receives the column sums of
 * the gradient (the bias gradient) without another pass over the matrix.
 */
export function referenceCrossEntropy(x: LossInput, grad: Float32Array, logQ?: Float32Array, columnSums?: Float64Array): number {
  const { scores, rows, cols, colItems } = x;
  const inv = 1 / rows;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const target = colItems[i]!;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) {
      if (j !== i && colItems[j] === target) continue;
      const l = logQ ? scores[o + j]! - logQ[j]! : scores[o + j]!;
      grad[o + j] = l;
      if (l > max) max = l;
    }
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      if (j !== i && colItems[j] === target) { grad[o + j] = 0; continue; }
      const e = Math.exp(grad[o + j]! - max);
      grad[o + j] = e;
      sum += e;
    }
    const targetP = grad[o + i]! / sum;
    total += -Math.log(targetP + 1e-24);
    const scale = inv / sum;
    for (let j = 0; j < cols; j++) grad[o + j] = grad[o + j]! * scale;
    grad[o + i] = grad[o + i]! - inv;
    if (columnSums) for (let j = 0; j < cols; j++) columnSums[j] = columnSums[j]! + grad[o + j]!;
  }
  return total;
}

