import { InvalidOptionError } from '../../src/errors.js';

export type OptimizerName = 'adagrad' | 'adam';

/** Options for {@link SparseOptimizer}. */
export interface OptimizerOptions {
  /** `adagrad` (GRU4Rec's choice, with Nesterov momentum) or `adam`. @defaultValue 'adagrad' */
  readonly name: OptimizerName;
  /** Learning rate. @defaultValue 0.05 */
  readonly learningRate: number;
  /** Nesterov momentum for Adagrad (0 = off). @defaultValue 0 */
  readonly momentum: number;
  /** Numerical epsilon. @defaultValue 1e-6 */
  readonly epsilon: number;
  /** Adam β1 / β2. @defaultValue 0.9 / 0.999 */
  readonly beta1: number;
  readonly beta2: number;
}

export const defaultOptimizerOptions = {
  name: 'adagrad',
  learningRate: 0.05,
  momentum: 0,
  epsilon: 1e-6,
  beta1: 0.9,
  beta2: 0.999,
} as const satisfies OptimizerOptions;

/**
 * One parameter array with its optimiser state. Dense parameters are updated whole; tables (`rowSize` > 0)
 * can be updated row-wise, touching only the rows a step used — the state of other rows stays as it was
 * (lazy/sparse Adagrad and Adam), which is what makes a 43k-row item table cheap to train.
 */
export class OptimizedParameter {
  readonly first: Float32Array;
  readonly second: Float32Array;
  /** Multiplies the configured learning rate (a schedule sets it, e.g. per-epoch decay). */
  learningRateScale = 1;

  /** `allocate` makes the state arrays (shared memory when worker threads train the same weights). */
  constructor(readonly values: Float32Array, private readonly o: OptimizerOptions, allocate: (length: number) => Float32Array = (n) => new Float32Array(n)) {
    // Adagrad: first = momentum velocity, second = squared-gradient sum. Adam: first/second moments.
    this.first = allocate(values.length);
    this.second = allocate(values.length);
  }

  /** Dense update with a gradient of the same length. `step` counts from 1 (Adam's bias correction). */
  updateDense(grad: Float32Array, step: number): void {
    this.updateRange(grad, 0, 0, this.values.length, step);
  }

  /**
   * Sparse update: `rows[k]` (unique) receives `grad[k*rowSize .. (k+1)*rowSize)`.
   */
  updateRows(rows: Int32Array, rowCount: number, grad: Float32Array, rowSize: number, step: number): void {
    for (let k = 0; k < rowCount; k++) this.updateRange(grad, k * rowSize, rows[k]! * rowSize, rowSize, step);
  }

  private updateRange(grad: Float32Array, gOff: number, pOff: number, len: number, step: number): void {
    const { values: p, first: m, second: v } = this;
    const lr = this.o.learningRate * this.learningRateScale;
    const eps = this.o.epsilon;
    if (this.o.name === 'adagrad') {
      const mu = this.o.momentum;
      if (mu > 0) {
        for (let i = 0; i < len; i++) {
          const g = grad[gOff + i]!;
          const a = v[pOff + i]! + g * g;
          v[pOff + i] = a;
          const u = g / Math.sqrt(a + eps);
          const vel = mu * m[pOff + i]! + u;
          m[pOff + i] = vel;
          p[pOff + i] = p[pOff + i]! - lr * (mu * vel + u);
        }
      } else {
        for (let i = 0; i < len; i++) {
          const g = grad[gOff + i]!;
          const a = v[pOff + i]! + g * g;
          v[pOff + i] = a;
          p[pOff + i] = p[pOff + i]! - (lr * g) / Math.sqrt(a + eps);
        }
      }
      return;
    }
    const b1 = this.o.beta1, b2 = this.o.beta2;
    const c1 = 1 - Math.pow(b1, step), c2 = 1 - Math.pow(b2, step);
    const stepSize = (lr * Math.sqrt(c2)) / c1;
    for (let i = 0; i < len; i++) {
      const g = grad[gOff + i]!;
      const mi = b1 * m[pOff + i]! + (1 - b1) * g;
      const vi = b2 * v[pOff + i]! + (1 - b2) * g * g;
      m[pOff + i] = mi;
      v[pOff + i] = vi;
      p[pOff + i] = p[pOff + i]! - (stepSize * mi) / (Math.sqrt(vi) + eps);
    }
  }
}

export function validateOptimizerOptions(o: OptimizerOptions): void {
  if (o.name !== 'adagrad' && o.name !== 'adam') throw new InvalidOptionError('optimizer', `optimizer must be 'adagrad' or 'adam', got "${String(o.name)}"`);
  if (!(o.learningRate > 0)) throw new InvalidOptionError('learningRate', 'learningRate must be > 0');
  if (!(o.momentum >= 0 && o.momentum < 1)) throw new InvalidOptionError('momentum', 'momentum must be in [0, 1)');
}

/**
 * Accumulates gradient rows for a table, summing rows that occur more than once in a step (duplicate ids in
 * a batch must add, not overwrite), and hands the unique rows to the optimiser.
 */
export class RowGradientAccumulator {
  readonly rows: Int32Array;
  grad: Float32Array;
  count = 0;
  private readonly slotOf: Int32Array;

  constructor(tableRows: number, readonly rowSize: number, maxRows: number) {
    this.slotOf = new Int32Array(tableRows).fill(-1);
    this.rows = new Int32Array(maxRows);
    this.grad = new Float32Array(maxRows * rowSize);
  }

  /** Adds `src[srcOff .. srcOff+rowSize)` to the gradient of table row `row`. */
  add(row: number, src: Float32Array, srcOff: number): void {
    let k = this.slotOf[row]!;
    const d = this.rowSize;
    if (k < 0) {
      k = this.count++;
      this.slotOf[row] = k;
      this.rows[k] = row;
      this.grad.fill(0, k * d, (k + 1) * d);
    }
    const o = k * d;
    for (let i = 0; i < d; i++) this.grad[o + i] = this.grad[o + i]! + src[srcOff + i]!;
  }

  /** Adds a scalar gradient to a 1-wide row (output bias). */
  addScalar(row: number, g: number): void {
    let k = this.slotOf[row]!;
    if (k < 0) {
      k = this.count++;
      this.slotOf[row] = k;
      this.rows[k] = row;
      this.grad[k] = 0;
    }
    this.grad[k] = this.grad[k]! + g;
  }

  /** Forgets the rows of this step. */
  clear(): void {
    for (let k = 0; k < this.count; k++) this.slotOf[this.rows[k]!] = -1;
    this.count = 0;
  }
}
