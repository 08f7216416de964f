import { tf } from '../nn/gradients.js';
import { dropout, matMul } from '../nn/dense.js';
import { normalizeRows } from '../nn/cosine.js';
import { bprMaxLoss, sampledSoftmaxLoss, type SparseLogitTensors } from '../nn/sampled-softmax.js';
import { gatherRows } from '../../src/backend/gather.js';
import { mergeColumns, withColumnLookup, type MergedColumns } from '../training/sampled-softmax.js';
import { assertSyncReads, backendReadsSync, readAsync, readSync } from '../training/tensor-reads.js';
import { OptimizedParameter, RowGradientAccumulator, defaultOptimizerOptions, type OptimizerOptions } from '../training/optimizers.js';
import type { Rng } from '../training/rng.js';
import { dropoutMask } from '../training/rng.js';
import type { PopularitySampler } from '../training/sampler.js';
import { timeBucket, type TransformerConfig } from './config.js';
import { embed, encode, windowAttention, windowPositions, windowReadout, type BlockDropout } from './forward.js';
import type { TransformerParams } from './params.js';
import { transitionFeature, type TransitionGraph } from './transitions.js';
import type { TransformerDeviceStepper } from './device-train-step.js';
import { repeatEntries } from '../nn/repeat-scores.js';
import { LOSS_READ_INTERVAL } from '../training/device-optimizer.js';

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
export function optimizedParameters(p: TransformerParams, c: TransformerConfig, allocate?: (length: number) => Float32Array): { table: OptimizedParameter; bias: OptimizedParameter; dense: OptimizedParameter[] } {
  const o: OptimizerOptions = { ...defaultOptimizerOptions, name: c.optimizer, learningRate: c.learningRate, momentum: c.momentum };
  return {
    table: new OptimizedParameter(p.itemTable, o, allocate),
    bias: new OptimizedParameter(p.outputBias, o, allocate),
    dense: p.dense.map((w) => new OptimizedParameter(w.values, o, allocate)),
  };
}

/** What changes from one epoch to the next. */
export interface EpochSchedule {
  /** Multiplier of every learning rate (the per-epoch decay). */
  readonly learningRateScale: number;
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
 * `progress` gets the totals and the mean loss per position of the last {@link LOSS_READ_INTERVAL} steps (the
 * device stepper's loss-read interval, so progress needs no extra read).
 * With the {@link TransformerDeviceStepper} the loss is read every {@link LOSS_READ_INTERVAL} steps and the
 * weights once at the end (the host parameters are current when this returns).
 */
export async function trainBatches(stepper: TransformerStepper | TransformerDeviceStepper, batches: Iterable<readonly TrainingWindow[]>, hooks: { shouldStop?: () => boolean; progress?: (totals: Readonly<BatchesTrained>, recentLoss: number) => void | Promise<void> } = {}): Promise<BatchesTrained & { stopped: boolean }> {
  // Sync reads where the backend allows them (no promise per step on wasm); webgpu awaits data().
  const syncReads = backendReadsSync();
  const host = stepper instanceof TransformerStepper ? stepper : undefined;
  const device = host ? undefined : (stepper as TransformerDeviceStepper);
  const t: BatchesTrained = { events: 0, lossSum: 0, steps: 0 };
  let recentSum = 0, recentEvents = 0, stopped = false;
  const addLoss = (meanLoss: number, events: number) => { t.lossSum += meanLoss * events; recentSum += meanLoss * events; recentEvents += events; };
  for (const batch of batches) {
    if (hooks.shouldStop?.()) { stopped = true; break; }
    const n = batch.reduce((k, w) => k + w.items.length - 1, 0);
    if (host) addLoss(syncReads ? host.step(batch) : await host.stepAsync(batch), n);
    else device!.step(batch);
    t.events += n; t.steps++;
    if (t.steps % LOSS_READ_INTERVAL === 0) {
      if (device) { const r = await device.readLoss(); addLoss(r.loss, r.events); }
      await hooks.progress?.(t, recentSum / Math.max(1, recentEvents));
      recentSum = 0; recentEvents = 0;
    }
  }
  if (device) {
    const r = await device.readLoss();
    addLoss(r.loss, r.events);
    await device.copyToHost();
  }
  return { ...t, stopped };
}

/** Host-side sparse logits of one step: the repeat bias's and the transition prior's entries (see {@link sparseEntries}). */
export interface SparseEntries {
  /** `[row, merged column]` per entry, flattened. */
  readonly indices: Int32Array;
  /** Repeat entries first: their distance (index into repeat_bias). */
  readonly repeatDistance: Int32Array;
  /** Then transition entries: their window position (index into transition_weight) and log-count feature. */
  readonly transitionPosition: Int32Array;
  readonly transitionFeature: Float32Array;
}

/** Everything one step uploads, built on the host by {@link prepareStep}. */
export interface StepInputs {
  readonly B: number;
  readonly T: number;
  /** Trained positions (rows b·T + t with a target). */
  readonly P: number;
  readonly validRows: Int32Array;
  readonly positions: Int32Array;
  readonly timeBuckets?: Int32Array;
  /** Item of every input row (−1 for padding). */
  readonly inputItems: Int32Array;
  /** Item of every output column (merged columns for cross-entropy, every sampled column for BPR-max). */
  readonly columnItems: Int32Array;
  readonly merged?: MergedColumns;
  /** Cross-entropy: per column, logQ correction − log(copies) (the output bias is a trained input). */
  readonly columnShift?: Float32Array;
  readonly sparse?: SparseEntries;
  readonly dropEmbedding: Float32Array;
  readonly dropHidden: { attention: Float32Array; feedForward: Float32Array }[];
}

/**
 * Host side before a step, shared by both steppers (the same draws from `rng` in the same order): rows,
 * sampled columns, sparse logit entries, dropout masks.
 */
export function prepareStep(p: TransformerParams, c: TransformerConfig, sampler: PopularitySampler, rng: Rng, windows: readonly TrainingWindow[]): StepInputs {
  const d = c.hiddenSize;
  const B = windows.length;
  const T = windows.reduce((m, w) => Math.max(m, w.items.length - 1), 0);
  const lengths = windows.map((w) => w.items.length - 1);
  const validRows: number[] = [];
  const targets: number[] = [];
  const inputItems = new Int32Array(B * T).fill(-1);
  windows.forEach((w, b) => {
    for (let t = 0; t + 1 < w.items.length; t++) { validRows.push(b * T + t); targets.push(w.items[t + 1]!); inputItems[b * T + t] = w.items[t]!; }
  });
  const P = validRows.length;
  const cols = new Int32Array(P + c.nSample);
  cols.set(targets);
  sampler.sample(rng, cols, P, cols.length);
  let timeBuckets: Int32Array | undefined;
  if (c.timeBuckets > 0) {
    timeBuckets = new Int32Array(B * T);
    windows.forEach((w, b) => { for (let t = 0; t + 1 < w.items.length; t++) timeBuckets![b * T + t] = timeBucket(w.gaps?.[t], c.timeBuckets); });
  }
  const dropEmbedding = dropoutMask(rng, B * T * d, c.dropoutEmbedding);
  const dropHidden = Array.from({ length: c.blocks }, () => ({ attention: dropoutMask(rng, B * T * d, c.dropoutHidden), feedForward: dropoutMask(rng, B * T * d, c.dropoutHidden) }));
  const base = { B, T, P, validRows: Int32Array.from(validRows), positions: windowPositions(lengths, T), ...(timeBuckets ? { timeBuckets } : {}), inputItems, dropEmbedding, dropHidden };
  if (c.loss === 'bpr-max') return { ...base, columnItems: cols };
  // Cross-entropy scores each distinct item once (merged columns: loss and gradients unchanged).
  const merged = mergeColumns(cols, P, p.itemCount);
  const columnShift = Float32Array.from(merged.items, (it, j) => (c.logq > 0 ? c.logq * sampler.logProbability[it]! : 0) - merged.logCount[j]!);
  const sparse = sparseEntries(p, c, windows, merged);
  return { ...base, columnItems: merged.items, merged, columnShift, ...(sparse ? { sparse } : {}) };
}

/**
 * The repeat bias's and the transition prior's sparse logits. Repeat: for each trained position (row),
 * every item of the window so far gets `repeat_bias[distance to its latest occurrence]` at its column.
 * Transition: each item b that followed the row's newest item a in the training sessions gets
 * `transition_weight[t] · log(1 + count(a → b))`, with the row's own session's a → b transitions taken out
 * of the count (a test session's transitions are not in the graph either). Items without a column this step
 * are not in the softmax, so they need no entry.
 */
function sparseEntries(p: TransformerParams, c: TransformerConfig, windows: readonly TrainingWindow[], merged: MergedColumns): SparseEntries | undefined {
  const N = p.itemCount;
  const prior = p.transitionPrior();
  if (!c.repeatBias && !prior) return undefined;
  const indices: number[] = [], transitionPosition: number[] = [], feature: number[] = [];
  const rows = windows.flatMap((w) => Array.from({ length: w.items.length - 1 }, (_, t) => ({ items: w.items, start: 0, end: t })));
  const repeat = withColumnLookup(merged, N, (columnOf) => {
    if (prior) addTransitionEntries(windows, prior.graph, N, columnOf, indices, transitionPosition, feature);
    return c.repeatBias ? repeatEntries(rows.length, (r) => rows[r]!, c.maxLength, (it, add) => { if (columnOf[it]! >= 0) add(columnOf[it]!); }) : undefined;
  });
  return {
    indices: repeat ? Int32Array.from([...repeat.indices, ...indices]) : Int32Array.from(indices),
    repeatDistance: repeat ? repeat.distance : new Int32Array(0),
    transitionPosition: Int32Array.from(transitionPosition), transitionFeature: Float32Array.from(feature),
  };
}

/**
 * What a step differentiates: the gathered item rows of the inputs `[B·T, d]` (zeros for padding) and of the
 * output columns `[columns, d]`, the columns' output-bias entries `[columns]`, and every dense weight in the
 * order of {@link TransformerParams.dense}. Where they live (host uploads or backend gathers) is the stepper's.
 */
export interface StepLeaves {
  readonly inputRows: tf.Tensor2D;
  readonly outputRows: tf.Tensor2D;
  readonly bias: tf.Tensor1D;
  readonly dense: readonly tf.Tensor[];
}

/**
 * The step's mean loss per position and its gradients with respect to `leaves` (`[inputRows, outputRows, bias,
 * ...dense]`), by TF.js autodiff: forward.ts's forward (the one the scorer runs) with dropout, then the sampled
 * softmax over the batch's targets and shared negatives (cross-entropy + logQ, each item once, with the repeat
 * and transition entries) or BPR-max. Both steppers call it; the caller owns the tensors (run it in a tidy).
 */
export function stepLossAndGradients(p: TransformerParams, c: TransformerConfig, s: StepInputs, leaves: StepLeaves): { value: tf.Scalar; grads: tf.Tensor[] } {
  const d = c.hiddenSize;
  const denseNames = p.dense.map((w) => w.name);
  const dropEmbedding = tf.tensor2d(s.dropEmbedding, [s.B * s.T, d]);
  const dropHidden: BlockDropout[] = s.dropHidden.map((m) => ({ attention: tf.tensor2d(m.attention, [s.B * s.T, d]), feedForward: tf.tensor2d(m.feedForward, [s.B * s.T, d]) }));
  const validRows = tf.tensor1d(s.validRows, 'int32');
  const f = (...all: tf.Tensor[]): tf.Scalar => {
    const [items, out, b, ...weights] = all as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, ...tf.Tensor[]];
    const w = new Map(denseNames.map((n, i) => [n, weights[i]!]));
    const x = embed(w, items, s.positions, s.timeBuckets, dropEmbedding);
    const enc = encode(w, c, x, windowAttention(c, s.B, s.T), dropHidden);
    const sessions = c.readout === 'last' ? enc.hidden : windowReadout(w, enc.hidden, dropout(items, dropEmbedding), s.B, s.T);
    let h = gatherRows(sessions, validRows);
    let o = out;
    // Cosine scoring: unit rows on both sides, 1/τ folded into the session side.
    if (c.cosineTemperature > 0) { h = normalizeRows(h, 1 / c.cosineTemperature); o = normalizeRows(o); }
    let loss: tf.Scalar;
    if (s.merged && s.columnShift) {
      const extra = s.sparse ? sparseLogits(w, s.sparse) : undefined;
      loss = sampledSoftmaxLoss(h, o, { shift: tf.sub(s.columnShift, b), targetColumn: s.merged.targetColumn, targetLogCount: targetLogCounts(s.merged), ...(extra ? { extra } : {}) });
    } else {
      loss = bprMaxLoss(tf.add(matMul(h, tf.transpose(o)), b), s.columnItems, c.bpreg, c.finalActivation === 'elu');
    }
    // Weights a step may leave unused (no repeat or transition entry) still get a (zero) gradient.
    for (const n of ['repeat_bias', 'transition_weight']) { const u = w.get(n); if (u) loss = tf.add(loss, tf.mul(tf.sum(u), 0)); }
    return tf.div(loss, Math.max(1, s.P));
  };
  const { value, grads } = tf.valueAndGrads(f)([leaves.inputRows, leaves.outputRows, leaves.bias, ...leaves.dense]);
  return { value, grads };
}

/**
 * One training step on a batch of windows, trained on every position (causal, SASRec-style), with the
 * weights on the host: the step's rows and dense weights are uploaded, {@link stepLossAndGradients} runs, and
 * the loss and all gradients come back in one read; the item table and bias then get sparse Adam/Adagrad
 * updates on the touched rows only, the dense weights full ones, on the host (so Hogwild workers can share
 * them). The backends that read synchronously train this way; webgpu trains with
 * {@link TransformerDeviceStepper}.
 */
export class TransformerStepper {
  private readonly optTable: OptimizedParameter;
  private readonly optBias: OptimizedParameter;
  private readonly optDense: OptimizedParameter[];
  private readonly tableGrad: RowGradientAccumulator;
  private readonly biasGrad: RowGradientAccumulator;
  private steps = 0;

  /** `allocate` makes the optimiser state, in a fixed order (shared memory for parallel training). */
  constructor(private readonly p: TransformerParams, private readonly c: TransformerConfig, private readonly sampler: PopularitySampler, private readonly rng: Rng, allocate?: (length: number) => Float32Array) {
    ({ table: this.optTable, bias: this.optBias, dense: this.optDense } = optimizedParameters(p, c, allocate));
    const maxPositions = c.batchSize * c.maxLength;
    const maxCols = maxPositions + c.nSample;
    this.tableGrad = new RowGradientAccumulator(p.itemCount, c.hiddenSize, maxPositions + maxCols);
    this.biasGrad = new RowGradientAccumulator(p.itemCount, 1, maxCols);
  }

  /** Applies an epoch's schedule (the learning-rate scale of the per-epoch decay). */
  setSchedule(schedule: EpochSchedule): void {
    for (const o of [this.optTable, this.optBias, ...this.optDense]) o.learningRateScale = schedule.learningRateScale;
  }

  /**
   * Trains on windows (at most batchSize, each 2..maxLength+1 items); returns the mean loss per position.
   * One read-back (`dataSync`); backends with sync reads only (cpu, wasm, tensorflow).
   */
  step(windows: readonly TrainingWindow[]): number {
    assertSyncReads('TransformerStepper.step', 'stepAsync');
    const inputs = this.prepare(windows);
    return this.apply(inputs, readSync(() => this.lossAndGradients(inputs)));
  }

  /** {@link step} reading its one result with `await data()`: runs on every backend (webgpu included). */
  async stepAsync(windows: readonly TrainingWindow[]): Promise<number> {
    const inputs = this.prepare(windows);
    return this.apply(inputs, await readAsync(() => this.lossAndGradients(inputs)));
  }

  private prepare(windows: readonly TrainingWindow[]): StepInputs {
    this.steps++;
    return prepareStep(this.p, this.c, this.sampler, this.rng, windows);
  }

  /** `[loss, d/d(input rows), d/d(output rows), d/d(bias entries), d/d(each dense weight)]` flattened into one tensor. */
  private lossAndGradients(s: StepInputs): tf.Tensor {
    const { p } = this;
    const d = this.c.hiddenSize;
    const { value, grads } = stepLossAndGradients(p, this.c, s, {
      inputRows: tf.tensor2d(gatherRowsHost(p.itemTable, d, s.inputItems), [s.B * s.T, d]),
      outputRows: tf.tensor2d(gatherRowsHost(p.itemTable, d, s.columnItems), [s.columnItems.length, d]),
      bias: tf.tensor1d(Float32Array.from(s.columnItems, (it) => p.outputBias[it]!)),
      dense: p.dense.map((w) => tf.tensor(w.values, w.shape, 'float32')),
    });
    return tf.concat([tf.reshape(value, [1]), ...grads.map((g) => tf.reshape(g, [-1]))]);
  }

  /** Host side after the read: row gradients into the accumulators, then the optimiser updates. */
  private apply(s: StepInputs, read: Float32Array): number {
    const { p, c } = this;
    const d = c.hiddenSize;
    let at = 1;
    const take = (n: number) => read.subarray(at, (at += n));
    const dInput = take(s.B * s.T * d), dOutput = take(s.columnItems.length * d), dBias = take(s.columnItems.length);
    this.tableGrad.clear();
    this.biasGrad.clear();
    for (let r = 0; r < s.inputItems.length; r++) if (s.inputItems[r]! >= 0) this.tableGrad.add(s.inputItems[r]!, dInput, r * d);
    for (let j = 0; j < s.columnItems.length; j++) {
      this.tableGrad.add(s.columnItems[j]!, dOutput, j * d);
      this.biasGrad.addScalar(s.columnItems[j]!, dBias[j]!);
    }
    const step = this.steps;
    p.dense.forEach((w, i) => this.optDense[i]!.updateDense(take(w.values.length), step));
    this.optTable.updateRows(this.tableGrad.rows, this.tableGrad.count, this.tableGrad.grad, d, step);
    this.optBias.updateRows(this.biasGrad.rows, this.biasGrad.count, this.biasGrad.grad, 1, step);
    return read[0]!;
  }
}

/** The sparse entries' logits: `repeat_bias[distance]`, then `transition_weight[position] · feature`. */
function sparseLogits(w: ReadonlyMap<string, tf.Tensor>, e: SparseEntries): SparseLogitTensors | undefined {
  const K = e.indices.length / 2;
  if (K === 0) return undefined;
  const parts: tf.Tensor1D[] = [];
  const pick = (name: string, at: Int32Array) => tf.reshape(gatherRows(tf.reshape(w.get(name)!, [-1, 1]) as tf.Tensor2D, tf.tensor1d(at, 'int32')), [-1]) as tf.Tensor1D;
  if (e.repeatDistance.length > 0) parts.push(pick('repeat_bias', e.repeatDistance));
  if (e.transitionPosition.length > 0) parts.push(tf.mul(pick('transition_weight', e.transitionPosition), tf.tensor1d(e.transitionFeature)));
  return { indices: tf.tensor2d(e.indices, [K, 2], 'int32'), values: parts.length === 1 ? parts[0]! : tf.concat(parts) };
}

/** log(copies) of each row's merged target column. */
function targetLogCounts(m: MergedColumns): Float32Array {
  return Float32Array.from(m.targetColumn, (col) => m.logCount[col]!);
}

/** Rows `items[r]` of a host table `[*, d]` as `[items.length, d]` (zeros where the item is −1). */
function gatherRowsHost(table: Float32Array, d: number, items: Int32Array): Float32Array {
  const out = new Float32Array(items.length * d);
  for (let r = 0; r < items.length; r++) if (items[r]! >= 0) out.set(table.subarray(items[r]! * d, (items[r]! + 1) * d), r * d);
  return out;
}

/** Transition-prior entries of every trained position (see {@link sparseEntries}). */
function addTransitionEntries(windows: readonly TrainingWindow[], graph: TransitionGraph, N: number, columnOf: Int32Array, indices: number[], position: number[], feature: number[]): void {
  const { offsets, targets, counts } = graph;
  // The window's session's own transitions, counted once per window (key a·N + b).
  const own = new Map<number, number>();
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
        const col = columnOf[targets[e]!]!;
        if (col < 0) continue;
        const n = counts[e]! - (own.get(a * N + targets[e]!) ?? 0);
        if (n <= 0) continue;
        indices.push(row, col); position.push(t); feature.push(transitionFeature(n));
      }
    }
  }
}
