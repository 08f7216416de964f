import { tf } from '../../src/backend/tf.js';
import type { OptimizerOptions } from './optimizers.js';

/** Device-resident training steppers (webgpu) read their accumulated loss once per this many steps. */
export const LOSS_READ_INTERVAL = 16;

/**
 * {@link OptimizedParameter}'s update rules (Adagrad with Nesterov momentum, or Adam) for a parameter that lives
 * on the TF.js backend as a variable: dense updates of the whole tensor, and row-sparse updates of a table that
 * touch only the given rows (gather, update, scatter back), so a GPU backend trains without reading anything back.
 */
export class DeviceOptimizedParameter {
  readonly values: tf.Variable;
  /** Multiplies the configured learning rate (a schedule sets it, e.g. per-epoch decay). */
  learningRateScale = 1;
  private readonly first: tf.Variable;
  private readonly second: tf.Variable;

  constructor(initial: Float32Array, shape: number[], private readonly o: OptimizerOptions) {
    this.values = tf.variable(tf.tensor(initial, shape), true);
    this.first = tf.variable(tf.zeros(shape), false);
    this.second = tf.variable(tf.zeros(shape), false);
  }

  /** Dense update with a gradient of the parameter's shape; `step` counts from 1 (Adam's bias correction). */
  updateDense(grad: tf.Tensor, step: number): void {
    tf.tidy(() => {
      const [p, m, v] = this.rule(this.values, this.first, this.second, grad, step);
      this.values.assign(p);
      this.first.assign(m);
      this.second.assign(v);
    });
  }

  /**
   * Sparse update of the table rows `rows` (unique, int32 `[U]`) with their summed gradients `[U, width]`.
   * `touched` `[U, width]` (1/0), when given, leaves the 0 entries as they were: with momentum or Adam a zero
   * gradient still moves a value, and the host optimiser updates only the entries a step used.
   */
  updateRows(rows: tf.Tensor1D, grad: tf.Tensor2D, step: number, touched?: tf.Tensor2D): void {
    tf.tidy(() => {
      const at = tf.expandDims(rows, 1);
      const old = [tf.gather(this.values, rows), tf.gather(this.first, rows), tf.gather(this.second, rows)] as const;
      const next = this.rule(old[0], old[1], old[2], grad, step);
      const [p, m, v] = touched ? next.map((t, i) => tf.add(old[i]!, tf.mul(tf.sub(t, old[i]!), touched))) : next;
      this.values.assign(tf.tensorScatterUpdate(this.values, at, p!));
      this.first.assign(tf.tensorScatterUpdate(this.first, at, m!));
      this.second.assign(tf.tensorScatterUpdate(this.second, at, v!));
    });
  }

  /**
   * Sparse update from one gradient row per gathered id (`ids[j]` has gradient row j of `grad` `[ids.length,
   * width]`): the rows of an id gathered more than once add up, then the distinct rows are updated.
   */
  updateGatheredRows(ids: Int32Array, grad: tf.Tensor2D, step: number): void {
    const u = uniqueRows([ids]);
    tf.tidy(() => this.updateRows(tf.tensor1d(u.rows, 'int32'), sumRows(grad, u, grad.shape[1]), step));
  }

  /** Replaces the parameter's values (same shape), keeping the optimiser state. */
  load(values: Float32Array): void {
    tf.tidy(() => this.values.assign(tf.tensor(values, this.values.shape)));
  }

  dispose(): void {
    tf.dispose([this.values, this.first, this.second]);
  }

  /** New (parameter, first state, second state) from the old ones and a gradient. */
  private rule(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, step: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
    const lr = this.o.learningRate * this.learningRateScale;
    const eps = this.o.epsilon;
    if (this.o.name === 'adagrad') {
      const a = tf.add(v, tf.square(g));
      const u = tf.div(g, tf.sqrt(tf.add(a, eps)));
      const mu = this.o.momentum;
      if (mu <= 0) return [tf.sub(p, tf.mul(u, lr)), m, a];
      const vel = tf.add(tf.mul(m, mu), u);
      return [tf.sub(p, tf.mul(tf.add(tf.mul(vel, mu), u), lr)), vel, a];
    }
    const { beta1: b1, beta2: b2 } = this.o;
    const stepSize = (lr * Math.sqrt(1 - Math.pow(b2, step))) / (1 - Math.pow(b1, step));
    const mi = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
    const vi = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
    return [tf.sub(p, tf.div(tf.mul(mi, stepSize), tf.add(tf.sqrt(vi), eps))), mi, vi];
  }
}

/** The distinct ids of `lists` (concatenated) and, per id in order, its index among them. */
export function uniqueRows(lists: readonly Int32Array[]): { rows: Int32Array; segment: Int32Array } {
  const index = new Map<number, number>();
  const total = lists.reduce((n, l) => n + l.length, 0);
  const segment = new Int32Array(total);
  let k = 0;
  for (const list of lists) for (const id of list) {
    let u = index.get(id);
    if (u === undefined) { u = index.size; index.set(id, u); }
    segment[k++] = u;
  }
  return { rows: Int32Array.from(index.keys()), segment };
}

/** Sums gradient rows `[n, width]` into one row per distinct id (scatterND adds duplicate indices). */
export function sumRows(grads: tf.Tensor2D, u: { rows: Int32Array; segment: Int32Array }, width: number): tf.Tensor2D {
  return tf.scatterND(tf.tensor2d(u.segment, [u.segment.length, 1], 'int32'), grads, [u.rows.length, width]) as tf.Tensor2D;
}
