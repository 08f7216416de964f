import { tf } from './gradients.js';
import { matMul } from './dense.js';
import { gatherRows } from '../../src/backend/gather.js';

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
  const flat = Int32Array.from(cols.targetColumn, (c, i) => i * M + c);
  const targetLogit = gatherRows(tf.reshape(logits, [P * M, 1]) as tf.Tensor2D, tf.tensor1d(flat, 'int32'));
  const lseMerged = logSumExpRows(logits);
  const logK = tf.tensor2d(cols.targetLogCount, [P, 1]);
  const pMerged = tf.exp(tf.sub(targetLogit, lseMerged));
  const lse = tf.add(lseMerged, tf.log(tf.sub(1, tf.mul(pMerged, tf.sub(1, tf.exp(tf.neg(logK)))))));
  return tf.sum(tf.sub(lse, tf.sub(targetLogit, logK)));
}

/**
 * Summed BPR-max loss (GRU4Rec): `−log Σ_j s_j σ(r_i − r_j) + bpreg · Σ_j s_j r_j²` per row, s the softmax over
 * row i's negatives (the columns whose item is not row i's target); row i's target is column i. `scores`
 * `[P, C]`; `elu` applies ELU(1) to the scores first.
 */
export function bprMaxLoss(scores: tf.Tensor2D, columnItems: Int32Array, bpreg: number, elu: boolean): tf.Scalar {
  const [P, C] = scores.shape;
  const y = elu ? tf.elu(scores) : scores;
  const items = tf.tensor1d(columnItems, 'int32');
  const negative = tf.notEqual(tf.reshape(tf.slice(items, 0, P), [P, 1]), tf.reshape(items, [1, C]));
  const s = tf.softmax(tf.where(negative, y, tf.fill([P, C], -1e9)));
  const diag = Int32Array.from({ length: P }, (_, i) => i * C + i);
  const yt = gatherRows(tf.reshape(y, [P * C, 1]) as tf.Tensor2D, tf.tensor1d(diag, 'int32'));
  const p = tf.sum(tf.mul(s, tf.sigmoid(tf.sub(yt, y))), 1);
  const q = tf.sum(tf.mul(s, tf.square(y)), 1);
  return tf.sum(tf.add(tf.neg(tf.log(tf.add(p, 1e-24))), tf.mul(q, bpreg)));
}
