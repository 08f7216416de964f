import { addColumnBias, addColumnSums, bprMaxLoss } from '../training/losses.js';
import { columnShift, mergeColumns, sampledSoftmaxReading, withColumnLookup, type MergedColumns, type SparseLogits } from '../training/sampled-softmax.js';
import { mmReading, mmTAReading } from './linalg.js';
import { assertSyncReads, backendReadsSync, runReadsAsync, runReadsSync, transposeJs, type ReadingComputation } from '../training/matmul.js';
import { OptimizedParameter, RowGradientAccumulator, defaultOptimizerOptions, type OptimizerOptions } from '../training/optimizers.js';
import type { Rng } from '../training/rng.js';
import { dropoutMask } from '../training/rng.js';
import type { PopularitySampler } from '../training/sampler.js';
import { timeBucket, type TransformerConfig } from './config.js';
import { trainBackwardReading, trainForwardReading, type MaskFactory } from './backprop.js';
import { embedWindows } from './forward.js';
import { normalizeRows, normalizeRowsBackward } from './cosine.js';
import { readoutBackward, readoutForward, sessionMapBackward, sessionMapForward } from './readout.js';
import type { TransformerParams } from './params.js';
import { transitionFeature, type TransitionGraph } from './transitions.js';

/** One training window: `items[0..n-1]` are inputs, `items[1..n]` their targets (n ≤ maxLength). */
export interface TrainingWindow {
  readonly items: Int32Array;
  /** Time since the previous event (ms) per input position, when the log has times. */
  readonly gaps?: Float64Array;
  /** The whole session the window was cut from (the transition prior leaves its transitions out). */
  readonly session?: Int32Array;
}

/**
 * The optimiser state of every trained array, allocated in one fixed order: parallel training allocates it
 * once in shared memory (without a stepper) and each worker maps the same buffers in the same order.
 */
export function optimizedParameters(p: TransformerParams, c: TransformerConfig, allocate?: (length: number) => Float32Array): { table: OptimizedParameter; out: OptimizedParameter | undefined; bias: OptimizedParameter; dense: OptimizedParameter[] } {
  const o: OptimizerOptions = { ...defaultOptimizerOptions, name: c.optimizer, learningRate: c.learningRate, momentum: c.momentum };
  return {
    table: new OptimizedParameter(p.itemTable, o, allocate),
    out: p.outputTable ? new OptimizedParameter(p.outputTable, o, allocate) : undefined,
    bias: new OptimizedParameter(p.outputBias, o, allocate),
    dense: p.dense.map((w) => new OptimizedParameter(w.values, o, allocate)),
  };
}

/** What changes from one epoch to the next. */
export interface EpochSchedule {
  /** Multiplier of every learning rate (the per-epoch decay). */
  readonly learningRateScale: number;
  /** Whether the transition prior (config `transitionPrior`) trains this epoch (`transitionPriorFromEpoch`). */
  readonly transitionPrior: boolean;
}

/** Running totals of {@link trainBatches}. */
export interface BatchesTrained {
  /** Trained positions. */
  events: number;
  /** Sum of loss × positions. */
  lossSum: number;
  steps: number;
}

/**
 * Trains `batches` in order, one step each: the per-batch loop of single-thread training and of every
 * parallel worker. `shouldStop` is asked before each step (cancel, time limit, a worker's stop flag);
 * `every10Steps` gets the totals and the mean loss of the last 10 steps.
 */
export async function trainBatches(stepper: TransformerStepper, batches: Iterable<readonly TrainingWindow[]>, hooks: { shouldStop?: () => boolean; every10Steps?: (totals: Readonly<BatchesTrained>, recentLoss: number) => void | Promise<void> } = {}): Promise<BatchesTrained & { stopped: boolean }> {
  // Sync reads where the backend allows them (no promise per product on wasm); webgpu awaits data().
  const syncReads = backendReadsSync();
  const t: BatchesTrained = { events: 0, lossSum: 0, steps: 0 };
  let recent = 0;
  for (const batch of batches) {
    if (hooks.shouldStop?.()) return { ...t, stopped: true };
    const n = batch.reduce((k, w) => k + w.items.length - 1, 0);
    const loss = syncReads ? stepper.step(batch) : await stepper.stepAsync(batch);
    t.events += n; t.lossSum += loss * n; t.steps++;
    recent += loss;
    if (t.steps % 10 === 0) { await hooks.every10Steps?.(t, recent / 10); recent = 0; }
  }
  return { ...t, stopped: false };
}

/**
 * One training step on a batch of windows, trained on every position (causal, SASRec-style): forward
 * and backward in Float32Arrays with matrix products on TF.js (backprop.ts), the output layer and loss over
 * GRU4Rec's shared sampled negatives (cross-entropy+logQ or BPR-max). Dense
 * weights get full updates; item-table and bias rows only where touched (sparse Adam/Adagrad).
 */
export class TransformerStepper {
  private readonly optTable: OptimizedParameter;
  private readonly optOut: OptimizedParameter | undefined;
  private readonly optBias: OptimizedParameter;
  private readonly optDense: OptimizedParameter[];
  private readonly tableGrad: RowGradientAccumulator;
  private readonly outGrad: RowGradientAccumulator | undefined;
  private readonly biasGrad: RowGradientAccumulator;
  private steps = 0;
  /** Off before `transitionPriorFromEpoch`: the prior adds nothing and its weight gets no gradient. */
  private transitionPriorOn = true;

  /** `allocate` makes the optimiser state, in a fixed order (shared memory for parallel training). */
  constructor(private readonly p: TransformerParams, private readonly c: TransformerConfig, private readonly sampler: PopularitySampler, private readonly rng: Rng, allocate?: (length: number) => Float32Array) {
    ({ table: this.optTable, out: this.optOut, bias: this.optBias, dense: this.optDense } = optimizedParameters(p, c, allocate));
    const maxPositions = c.batchSize * c.maxLength;
    const maxCols = maxPositions + c.nSample;
    this.tableGrad = new RowGradientAccumulator(p.itemCount, c.hiddenSize, maxPositions + (p.outputTable ? 0 : maxCols));
    this.outGrad = p.outputTable ? new RowGradientAccumulator(p.itemCount, c.hiddenSize, maxCols) : undefined;
    this.biasGrad = new RowGradientAccumulator(p.itemCount, 1, maxCols);
  }

  /**
   * The repeat bias as sparse logits: for each trained position (row), every item of the window so far gets
   * `repeat[distance to its latest occurrence]` at its column. Items without a column this step (a window's
   * first item when it was neither a target nor sampled) are not in the softmax, so they need no entry.
   */
  private repeatEntries(windows: readonly TrainingWindow[], merged: MergedColumns, repeat: Float32Array): SparseLogits & { distance: Int32Array } {
    const N = this.p.itemCount;
    if (seenInRow.length < N) seenInRow = new Int32Array(N).fill(-1);
    const rows: number[] = [], columns: number[] = [], distance: number[] = [];
    withColumnLookup(merged, N, (columnOf) => {
      let row = 0;
      for (const w of windows) {
        for (let t = 0; t + 1 < w.items.length; t++, row++) {
          for (let j = t; j >= 0; j--) {
            const it = w.items[j]!;
            if (seenInRow[it] === row) continue;
            seenInRow[it] = row;
            const col = columnOf[it]!;
            if (col >= 0) { rows.push(row); columns.push(col); distance.push(t - j); }
          }
        }
      }
    });
    for (const w of windows) for (const it of w.items) seenInRow[it] = -1;
    return { rows: Int32Array.from(rows), columns: Int32Array.from(columns), values: Float32Array.from(distance, (k) => repeat[k]!), distance: Int32Array.from(distance) };
  }

  /**
   * The transition prior as sparse logits: for each trained position (row) with newest item a at window
   * position t, every item b that followed a in the training sessions and has a column this step gets
   * `weight[t] · log(1 + count(a → b))`, with the row's own session's a → b transitions taken out of the
   * count (a test session's transitions are not in the graph either). `feature` keeps the log-count for the
   * weight's gradient.
   */
  private transitionEntries(windows: readonly TrainingWindow[], merged: MergedColumns, prior: { weight: Float32Array; graph: TransitionGraph }): SparseLogits & { position: Int32Array; feature: Float32Array } {
    const N = this.p.itemCount;
    const { offsets, targets, counts } = prior.graph;
    const rows: number[] = [], columns: number[] = [], position: number[] = [], feature: number[] = [];
    // The window's session's own transitions, counted once per window (key a·N + b).
    const own = new Map<number, number>();
    withColumnLookup(merged, N, (columnOf) => {
      let row = 0;
      for (const w of windows) {
        const session = w.session ?? w.items;
        own.clear();
        for (let k = 0; k + 1 < session.length; k++) {
          if (session[k] === session[k + 1]) continue;
          const key = session[k]! * N + session[k + 1]!;
          own.set(key, (own.get(key) ?? 0) + 1);
        }
        for (let t = 0; t + 1 < w.items.length; t++, row++) {
          const a = w.items[t]!;
          for (let e = offsets[a]!; e < offsets[a + 1]!; e++) {
            const b = targets[e]!;
            const col = columnOf[b]!;
            if (col < 0) continue;
            const n = counts[e]! - (own.get(a * N + b) ?? 0);
            if (n <= 0) continue;
            rows.push(row); columns.push(col); position.push(t); feature.push(transitionFeature(n));
          }
        }
      }
    });
    const f = Float32Array.from(feature);
    return { rows: Int32Array.from(rows), columns: Int32Array.from(columns), values: f.map((x, e) => prior.weight[position[e]!]! * x), position: Int32Array.from(position), feature: f };
  }

  /** Applies an epoch's schedule: the learning-rate scale (per-epoch decay) and whether the transition prior trains. */
  setSchedule(schedule: EpochSchedule): void {
    for (const o of [this.optTable, this.optOut, this.optBias, ...this.optDense]) if (o) o.learningRateScale = schedule.learningRateScale;
    this.transitionPriorOn = schedule.transitionPrior;
  }

  /**
   * Trains on windows (at most batchSize, each 2..maxLength+1 items); returns the mean loss per position.
   * Backends with sync reads only (cpu, wasm, tensorflow); {@link stepAsync} runs everywhere.
   */
  step(windows: readonly TrainingWindow[]): number {
    assertSyncReads('TransformerStepper.step', 'stepAsync');
    return runReadsSync(this.computeStep(windows));
  }

  /** {@link step} reading every matrix product with `await data()`: runs on every backend (webgpu included). */
  stepAsync(windows: readonly TrainingWindow[]): Promise<number> {
    return runReadsAsync(this.computeStep(windows));
  }

  /** The step, yielding each matrix product to be computed on the backend and read back by the driver. */
  private *computeStep(windows: readonly TrainingWindow[]): ReadingComputation<number> {
    const { p, c } = this;
    const d = c.hiddenSize;
    const B = windows.length;
    const T = windows.reduce((m, w) => Math.max(m, w.items.length - 1), 0);
    this.steps++;
    // Valid rows (b·T + t) and their targets; columns = [targets ‖ shared samples].
    const rows: number[] = [];
    const targets: number[] = [];
    windows.forEach((w, b) => { for (let t = 0; t + 1 < w.items.length; t++) { rows.push(b * T + t); targets.push(w.items[t + 1]!); } });
    const P = rows.length;
    const cols = new Int32Array(P + c.nSample);
    cols.set(targets);
    this.sampler.sample(this.rng, cols, P, cols.length);
    const dropEmb = dropoutMask(this.rng, B * T * d, c.dropoutEmbedding);
    const inputs = windows.map((w) => w.items.subarray(0, w.items.length - 1));
    const x0 = embedWindows(p, inputs, T, windows.map((w) => w.gaps), dropEmb);
    this.tableGrad.clear();
    this.outGrad?.clear();
    this.biasGrad.clear();
    const masks: MaskFactory = (n) => (c.dropoutHidden > 0 ? dropoutMask(this.rng, n, c.dropoutHidden) : undefined);
    const fwd = yield* trainForwardReading(p, x0, B, T, masks);
    // Output layer and loss over the valid positions only.
    // Session vectors: the output at each position, or the item-attention readout over the inputs' item rows.
    const lengths = windows.map((w) => w.items.length - 1);
    const xr = c.readout !== 'last' ? droppedItemRows(p.itemTable, windows, T, d, dropEmb) : undefined;
    const query = p.readoutQuery();
    const residual = p.readoutResidual();
    const ro = xr ? readoutForward(fwd.out, xr, p.get('readout_v'), lengths, T, d, query, residual) : undefined;
    let hv = ro ? ro.s : fwd.out;
    if (ro && c.readout === 'mixed') {
      const sum = ro.s.slice();
      for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + fwd.out[i]!;
      hv = sum;
    }
    const outTable = p.outTable;
    const hsRead = new Float32Array(P * d);
    rows.forEach((r, i) => hsRead.set(hv.subarray(r * d, (r + 1) * d), i * d));
    const sessionMap = p.sessionMap();
    const hsRaw = sessionMap ? sessionMapForward(hsRead, P, sessionMap, d) : hsRead;
    // Cross-entropy scores each distinct item once (merged columns, loss and gradients unchanged); BPR-max
    // keeps every sampled column.
    const merged = c.loss === 'bpr-max' ? undefined : mergeColumns(cols, P, p.itemCount);
    const colItems = merged ? merged.items : cols;
    const M = colItems.length;
    const oRaw = new Float32Array(M * d);
    for (let j = 0; j < M; j++) oRaw.set(outTable.subarray(colItems[j]! * d, (colItems[j]! + 1) * d), j * d);
    // Cosine scoring: unit rows on both sides, 1/τ folded into the session side.
    const tau = c.cosineTemperature;
    const hN = tau > 0 ? normalizeRows(hsRaw, P, d) : undefined;
    const oN = tau > 0 ? normalizeRows(oRaw, M, d) : undefined;
    const hs = hN ? hN.normalized.map((x) => x / tau) : hsRaw;
    const o = oN ? oN.normalized : oRaw;
    const grads = new Map(p.dense.map((w) => [w.name, new Float32Array(w.values.length)]));
    let loss: number, dHs: Float32Array, dO: Float32Array, colGrad: ArrayLike<number>;
    if (merged) {
      // The bias and the logQ correction fold into one shift per column, as does the merged column's count.
      const shift = columnShift(merged, p.outputBias, this.sampler, c.logq);
      const repeat = p.repeatBias();
      const prior = this.transitionPriorOn ? p.transitionPrior() : undefined;
      const rep = repeat ? this.repeatEntries(windows, merged, repeat) : undefined;
      const tr = prior ? this.transitionEntries(windows, merged, prior) : undefined;
      // Both kinds of entry add to the logits (scatterND sums an entry of each at the same row and column).
      const extra = rep && tr ? concatSparse(rep, tr) : rep ?? tr;
      let extraGrad: Float32Array | undefined;
      ({ loss, dH: dHs, dO, columnGrad: colGrad, extraGrad } = yield* sampledSoftmaxReading(hs, P, d, o, merged, shift, extra));
      if (rep && extraGrad) {
        const dRepeat = grads.get('repeat_bias')!;
        for (let e = 0; e < rep.distance.length; e++) dRepeat[rep.distance[e]!] = dRepeat[rep.distance[e]!]! + extraGrad[e]!;
      }
      if (tr && extraGrad) {
        const dWeight = grads.get('transition_weight')!;
        const first = rep ? rep.rows.length : 0;
        for (let e = 0; e < tr.position.length; e++) dWeight[tr.position[e]!] = dWeight[tr.position[e]!]! + extraGrad[first + e]! * tr.feature[e]!;
      }
    } else {
      const scores = yield* mmReading(hs, P, d, transposeJs(o, M, d), M);
      addColumnBias(scores, P, M, Float32Array.from(cols, (it) => p.outputBias[it]!));
      const dS = new Float32Array(P * M);
      loss = bprMaxLoss({ scores, rows: P, cols: M, colItems: cols }, dS, c.bpreg, c.finalActivation === 'elu');
      const sums = new Float64Array(M);
      addColumnSums(dS, P, M, sums);
      colGrad = sums;
      dHs = yield* mmReading(dS, P, M, o, d);
      // dO = dSᵀ·hs, computed as (hsᵀ·dS)ᵀ so the big matrix is never transposed.
      dO = transposeJs(yield* mmTAReading(hs, P, d, dS, M), d, M);
    }
    if (hN && oN) {
      for (let i = 0; i < dHs.length; i++) dHs[i] = dHs[i]! / tau;
      normalizeRowsBackward(dHs, hN.normalized, hN.norms, P, d);
      normalizeRowsBackward(dO, oN.normalized, oN.norms, M, d);
    }
    if (sessionMap) dHs = sessionMapBackward(dHs, hsRead, P, sessionMap, d, grads.get('session_map')!);
    const outAcc = this.outGrad ?? this.tableGrad;
    for (let j = 0; j < M; j++) {
      outAcc.add(colItems[j]!, dO, j * d);
      this.biasGrad.addScalar(colItems[j]!, colGrad[j]!);
    }
    let dH: Float32Array = new Float32Array(B * T * d);
    rows.forEach((r, i) => dH.set(dHs.subarray(i * d, (i + 1) * d), r * d));
    if (ro && xr) {
      const queryGrads = query ? { w: grads.get('readout_w')!, r: grads.get('readout_r')! } : undefined;
      const back = readoutBackward(dH, fwd.out, xr, ro.s, p.get('readout_v'), grads.get('readout_v')!, ro.cache, lengths, T, d, query, queryGrads, residual ? { m: residual, grad: grads.get('readout_m')! } : undefined);
      if (c.readout === 'mixed') for (let i = 0; i < dH.length; i++) back.dh[i] = back.dh[i]! + dH[i]!;
      dH = back.dh;
      // The readout's own path into the item rows (through the same embedding dropout, no positions).
      windows.forEach((w, b) => {
        for (let t = 0; t + 1 < w.items.length; t++) {
          const o = (b * T + t) * d;
          for (let i = 0; i < d; i++) back.dx[o + i] = back.dx[o + i]! * dropEmb[o + i]!;
          this.tableGrad.add(w.items[t]!, back.dx, o);
        }
      });
    }
    const dX = yield* trainBackwardReading(p, fwd, dH, grads);
    // Input gradient: through the embedding dropout into item rows, positions and time gaps.
    const dPos = grads.get('position_table')!;
    const dTime = grads.get('time_table');
    windows.forEach((w, b) => {
      for (let t = 0; t + 1 < w.items.length; t++) {
        const o = (b * T + t) * d;
        for (let i = 0; i < d; i++) dX[o + i] = dX[o + i]! * dropEmb[o + i]!;
        this.tableGrad.add(w.items[t]!, dX, o);
        for (let i = 0; i < d; i++) dPos[t * d + i] = dPos[t * d + i]! + dX[o + i]!;
        if (dTime) {
          const tb = timeBucket(w.gaps?.[t], c.timeBuckets) * d;
          for (let i = 0; i < d; i++) dTime[tb + i] = dTime[tb + i]! + dX[o + i]!;
        }
      }
    });
    const step = this.steps;
    p.dense.forEach((w, i) => this.optDense[i]!.updateDense(grads.get(w.name)!, step));
    this.optTable.updateRows(this.tableGrad.rows, this.tableGrad.count, this.tableGrad.grad, d, step);
    if (this.optOut && this.outGrad) this.optOut.updateRows(this.outGrad.rows, this.outGrad.count, this.outGrad.grad, d, step);
    this.optBias.updateRows(this.biasGrad.rows, this.biasGrad.count, this.biasGrad.grad, 1, step);
    return loss / Math.max(1, P);
  }
}

function concatSparse(a: SparseLogits, b: SparseLogits): SparseLogits {
  const join = <T extends Int32Array | Float32Array>(x: T, y: T, make: (n: number) => T): T => { const z = make(x.length + y.length); z.set(x); z.set(y, x.length); return z; };
  return { rows: join(a.rows, b.rows, (n) => new Int32Array(n)), columns: join(a.columns, b.columns, (n) => new Int32Array(n)), values: join(a.values, b.values, (n) => new Float32Array(n)) };
}

/** Reusable per-item table: the latest trained row that listed the item (reset after each use). */
let seenInRow = new Int32Array(0);

/** The inputs' item rows `[B·T, d]` through the embedding dropout (no positions): the readout's summands. */
function droppedItemRows(table: Float32Array, windows: readonly TrainingWindow[], T: number, d: number, dropMask: Float32Array): Float32Array {
  const x = new Float32Array(windows.length * T * d);
  windows.forEach((w, b) => {
    for (let t = 0; t + 1 < w.items.length; t++) {
      const o = (b * T + t) * d, e = w.items[t]! * d;
      for (let i = 0; i < d; i++) x[o + i] = table[e + i]! * dropMask[o + i]!;
    }
  });
  return x;
}
