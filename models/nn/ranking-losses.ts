import { tf } from '../../src/backend/tf.js';

/** The sampled training losses of GRU4Rec and the transformer. */
export type LossName = 'cross-entropy' | 'bpr-max';

/**
 * Sampled ranking losses over a score matrix `[rows, cols]` whose column i is row i's target (the batch's
 * targets first, then shared negatives). `negatives` `[rows, cols]` is 1 where a column is a negative for the
 * row (0 on the target's own column and on every other column holding the same item). Both return the mean
 * over rows; gradients come from TF.js autodiff.
 */
export interface SampledScores {
  readonly scores: tf.Tensor2D;
  readonly negatives: tf.Tensor2D;
  /** One-hot `[rows, cols]` of each row's target column (column i for row i). */
  readonly targets: tf.Tensor2D;
}

/**
 * BPR-max (Hidasi & Karatzoglou 2018): `−log Σ_j s_j σ(r_t − r_j) + bpreg · Σ_j s_j r_j²`, s = softmax over
 * the row's negatives. `elu` applies ELU(1) to the scores first (GRU4Rec's best setting on Diginetica).
 * A row with no negative contributes 0. Mean over rows.
 *
 * One op with its closed-form gradient (tf.customGrad): autodiff through the dozen elementwise ops over the
 * `[rows, cols]` matrix (128 × 2,176 per GRU4Rec step) costs about twice as many full-matrix kernels on wasm.
 * test/models/nn/ranking-losses.test.ts checks it against autodiff of {@link bprMaxReference}, and
 * test/models/nn/transformer-layers.test.ts (through bprMaxLoss) against finite differences. With y = act(r), σ_j = σ(y_t − y_j), p = Σ s σ, q = Σ s y²:
 * ∂/∂y_j = s_j (p − σ_j²)/p + bpreg · s_j (y_j² + 2y_j − q), ∂/∂y_t = −Σ_j s_j σ_j (1 − σ_j) / p.
 */
export function bprMax({ scores, negatives, targets }: SampledScores, bpreg: number, elu: boolean): tf.Scalar {
  const rows = scores.shape[0];
  const op = tf.customGrad(((r: tf.Tensor2D, save: tf.GradSaveFunc) => {
    // Everything the gradient uses goes through save(): tensors merely closed over are freed with the forward.
    const negativeBias = tf.mul(tf.sub(negatives, 1), 1e9);
    const hasNegative = tf.max(negatives, 1, true);
    const y = elu ? tf.elu(r) : r;
    const yt = tf.sum(tf.mul(y, targets), 1, true);
    const s = tf.mul(tf.softmax(tf.add(y, negativeBias)), negatives);
    const sig = tf.sigmoid(tf.sub(yt, y));
    const sSig = tf.mul(s, sig);
    const p = tf.add(tf.sum(sSig, 1, true), 1e-24);
    const y2 = tf.square(y);
    const q = tf.sum(tf.mul(s, y2), 1, true);
    const perRow = tf.mul(tf.add(tf.neg(tf.log(p)), tf.mul(q, bpreg)), hasNegative);
    save([y, s, sig, sSig, p, q, y2, hasNegative, targets]);
    return {
      value: tf.div(tf.sum(perRow), rows),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sy, ss, ssig, ssSig, sp, sq, sy2, sHas, sTargets] = saved as tf.Tensor2D[];
        const coef = tf.div(tf.mul(dy, sHas!), rows);
        const sSig2 = tf.mul(ssSig!, ssig!);
        const dyt = tf.div(tf.sub(tf.sum(sSig2, 1, true), sp!), sp!);
        let dY = tf.sub(ss!, tf.div(sSig2, sp!));
        if (bpreg !== 0) dY = tf.add(dY, tf.mul(tf.mul(ss!, tf.sub(tf.add(sy2!, tf.mul(sy!, 2)), sq!)), bpreg));
        dY = tf.mul(tf.add(dY, tf.mul(sTargets!, dyt)), coef);
        return elu ? tf.tidy(() => eluGrad(dY, sy!)) : dY;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(scores) as tf.Scalar;
}

/** ELU's gradient from its output: `dy · (y + 1)` where y < 0, else `dy` (the EluGrad kernel). */
function eluGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel('EluGrad', { dy, y });
}

/** {@link bprMax} as plain ops differentiated by autodiff: the reference the fused op is tested against. */
export function bprMaxReference({ scores, negatives, targets }: SampledScores, bpreg: number, elu: boolean): tf.Scalar {
  return tf.tidy(() => {
    const y = elu ? tf.elu(scores) : scores;
    const target = tf.sum(tf.mul(y, targets), 1, true);
    const s = tf.mul(tf.softmax(tf.add(y, tf.mul(tf.sub(negatives, 1), 1e9))), negatives);
    const p = tf.sum(tf.mul(s, tf.sigmoid(tf.sub(target, y))), 1);
    const q = tf.sum(tf.mul(s, tf.square(y)), 1);
    const perRow = tf.mul(tf.add(tf.neg(tf.log(tf.add(p, 1e-24))), tf.mul(q, bpreg)), tf.max(negatives, 1));
    return tf.mean(perRow) as tf.Scalar;
  });
}

/**
 * The masks of {@link SampledScores} from the columns' items (row i's target is column i): `negatives` is 1
 * where the column's item differs from the row's target, `targets` the one-hot of column i. The host finds the
 * few (row, column) pairs that hold the row's own target (the diagonal and repeated targets) and the backend
 * scatters them: a broadcast NotEqual is a slow path on wasm, and building the dense masks in JavaScript costs
 * more than the step's loss.
 */
export function sampledMasks(columnItems: Int32Array, rows: number): { negatives: tf.Tensor2D; targets: tf.Tensor2D } {
  const cols = columnItems.length;
  const columnsOf = new Map<number, number[]>();
  for (let i = 0; i < rows; i++) columnsOf.set(columnItems[i]!, []);
  for (let j = 0; j < cols; j++) columnsOf.get(columnItems[j]!)?.push(j);
  const at: number[] = [];
  for (let i = 0; i < rows; i++) for (const j of columnsOf.get(columnItems[i]!)!) at.push(i, j);
  return tf.tidy(() => {
    const same = tf.scatterND(tf.tensor2d(at, [at.length / 2, 2], 'int32'), tf.ones([at.length / 2]), [rows, cols]);
    return { negatives: tf.sub(1, same) as tf.Tensor2D, targets: oneHotRows(Int32Array.from({ length: rows }, (_, i) => i), cols) };
  });
}

/**
 * One-hot rows `[columns.length, cols]`, 1 at `columns[i]` in row i (tf.oneHot refuses a depth of 1, which a
 * step with one row and no shared negatives has).
 */
function oneHotRows(columns: Int32Array, cols: number): tf.Tensor2D {
  return tf.tidy(() => {
    const at = new Int32Array(columns.length * 2);
    columns.forEach((c, i) => { at[2 * i] = i; at[2 * i + 1] = c; });
    return tf.scatterND(tf.tensor2d(at, [columns.length, 2], 'int32'), tf.ones([columns.length]), [columns.length, cols]) as tf.Tensor2D;
  });
}
