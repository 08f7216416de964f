import { tf } from './gradients.js';
import { matMul } from './dense.js';
import { gatherRows } from '../../src/backend/gather.js';
import { bprMax, sampledMasks } from './ranking-losses.js';

/**
 * `log Σ_j exp(x_ij)` per row of `x` `[rows, cols]` → `[rows, 1]`. Its gradient is `dy · softmax(x)`, from the
 * forward's exponentials: one `[rows, cols]` exp in all, where TF.js's composite (and Max's gradient) makes several.
 */
export const logSumExpRows = tf.customGrad(((...args: unknown[]) => {
  const x = args[0] as tf.Tensor2D, save = args[1] as tf.GradSaveFunc;
  const max = tf.max(x, 1, true);
  const e = tf.exp(tf.sub(x, max));
  const sum = tf.sum(e, 1, true);
  save([e, sum]);
  return {
    value: tf.add(max, tf.log(sum)),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = Array.isArray(dy) ? dy[0]! : dy;
      return [tf.mul(saved[0]!, tf.div(g, saved[1]!))];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor2D) => tf.Tensor2D;

/**
 * `tf.scatterND(indices, values, shape)` (entries at the same index add up) with a gradient for `values`
 * (`gatherND` of the upstream gradient), which tfjs-core does not register.
 */
export function scatterAdd(indices: tf.Tensor2D, values: tf.Tensor1D, shape: number[]): tf.Tensor {
  const op = tf.customGrad(((...args: unknown[]) => {
    const i = args[0] as tf.Tensor, v = args[1] as tf.Tensor, save = args[2] as tf.GradSaveFunc;
    save([i]);
    return {
      value: tf.scatterND(i, v, shape),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [tf.zerosLike(saved[0]!), tf.gatherND(Array.isArray(dy) ? dy[0]! : dy, saved[0]!)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(indices, values);
}

/**
 * Sparse additions to the logits: entry e adds `values[e]` at `[row, column] = indices[e]`.
 */
export interface SparseLogitTensors {
  readonly indices: tf.Tensor2D;
  readonly values: tf.Tensor1D;
}

/** The sampled-softmax inputs besides the session vectors and the output rows. */
export interface SampledSoftmaxColumns {
  /** Per column, subtracted from its logit `[M]` (logQ correction − output bias − log(copies of the column)). */
  readonly shift: tf.Tensor1D;
  /** Each row's target column. */
  readonly targetColumn: Int32Array;
  /** log(copies) of each row's target column (the sampled columns holding that item). */
  readonly targetLogCount: Float32Array;
  readonly extra?: SparseLogitTensors;
}

/**
 * Summed softmax cross-entropy over sampled columns with each item once (merged columns; see
 * models/training/sampled-softmax.ts `mergeColumns`): logits `h · oᵀ − shift` (+ sparse extras), row i's
 * positive is one copy of its target column. A merged column of k copies stands for all of them through
 * `log k` in its shift; the true normaliser counts the target once: `Z = Z′ (1 − p′ (1 − 1/k))`, with p′ the
 * merged target column's softmax mass. `h` `[P, d]`, `o` `[M, d]`; differentiable in h, o, shift and extras.
 */
export function sampledSoftmaxLoss(h: tf.Tensor2D, o: tf.Tensor2D, cols: SampledSoftmaxColumns): tf.Scalar {
  const P = h.shape[0], M = o.shape[0];
  let logits: tf.Tensor2D = tf.sub(matMul(h, tf.transpose(o)), cols.shift);
  if (cols.extra) logits = tf.add(logits, scatterAdd(cols.extra.indices, cols.extra.values, [P, M]));
  return mergedCrossEntropy(logits, cols.targetColumn, cols.targetLogCount);
}

/**
 * The loss part of {@link sampledSoftmaxLoss} over ready logits `[P, M]` whose merged columns already carry
 * log(copies): summed over rows, row i's positive is one copy of column `targetColumn[i]` (log k copies in
 * `targetLogCount[i]`). GRU4Rec's step builds its logits itself (the bias folded into its output product).
 */
export function mergedCrossEntropy(logits: tf.Tensor2D, targetColumn: Int32Array, targetLogCount: Float32Array): tf.Scalar {
  const [P, M] = logits.shape;
  const flat = Int32Array.from(targetColumn, (c, i) => i * M + c);
  const targetLogit = gatherRows(tf.reshape(logits, [P * M, 1]) as tf.Tensor2D, tf.tensor1d(flat, 'int32'));
  const lseMerged = logSumExpRows(logits);
  const logK = tf.tensor2d(targetLogCount, [P, 1]);
  const pMerged = tf.exp(tf.sub(targetLogit, lseMerged));
  const lse = tf.add(lseMerged, tf.log(tf.sub(1, tf.mul(pMerged, tf.sub(1, tf.exp(tf.neg(logK)))))));
  return tf.sum(tf.sub(lse, tf.sub(targetLogit, logK)));
}

/**
 * Summed BPR-max loss (GRU4Rec) over `scores` `[P, C]` whose column i is row i's target; the columns' items
 * decide which columns are a row's negatives. {@link bprMax} (one op with its closed-form gradient) times P.
 */
export function bprMaxLoss(scores: tf.Tensor2D, columnItems: Int32Array, bpreg: number, elu: boolean): tf.Scalar {
  const P = scores.shape[0];
  return tf.mul(bprMax({ scores, ...sampledMasks(columnItems, P) }, bpreg, elu), P);
}
