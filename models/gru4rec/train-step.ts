import { tf } from '../nn/gradients.js';
import type { GruCellWeights } from '../nn/gru.js';
import { scoreRows } from '../nn/dense.js';
import { bprMax, sampledMasks } from '../nn/ranking-losses.js';
import { mergedCrossEntropy } from '../nn/sampled-softmax.js';
import { addRepeatLogits, forEachRecentItem, repeatEntries, type RepeatEntries, type RowSpan } from '../nn/repeat-scores.js';
import { assertSyncReads, backendReadsSync } from '../training/tensor-reads.js';
import { OptimizedParameter, RowGradientAccumulator, defaultOptimizerOptions, type OptimizerOptions } from '../training/optimizers.js';
import type { Rng } from '../training/rng.js';
import { dropoutMask } from '../training/rng.js';
import type { PopularitySampler } from '../training/sampler.js';
import { mergeColumns, withColumnLookup } from '../training/sampled-softmax.js';
import type { SessionBatch } from '../training/session-batcher.js';
import { GRU4REC_REPEAT_WINDOW, type Gru4RecConfig } from './config.js';
import { gru4recStep } from './forward.js';
import type { Gru4RecParams } from './params.js';

/** Gradients of one step, kept for tests (`keepGradients`). */
export interface Gru4RecStepGradients {
  readonly layers: { kernel: Float32Array; recurrent: Float32Array; bias: Float32Array }[];
  readonly repeatBias?: Float32Array;
  readonly tableRows: Map<number, Float32Array>;
  readonly biasRows: Map<number, number>;
}

/** The random draws of one step (dropout masks, sampled output columns), shared by both steppers. */
export interface StepDraw {
  readonly R: number;
  readonly inputMask: Float32Array;
  readonly layerMasks: Float32Array[];
  /** Output columns' items (every sampled column for BPR-max, each item once for cross-entropy). */
  readonly columnItems: Int32Array;
  /** Cross-entropy: per column, the constant added to its logit (log copies − logq·log P). */
  readonly logitShift?: Float32Array;
  readonly targetColumn?: Int32Array;
  readonly targetLogCount?: Float32Array;
  /** BPR-max: every column's item (row i's target is column i), for the negatives mask. */
  readonly sampledItems?: Int32Array;
  /** Repeat-aware scores (config `repeatBias`): the step's sparse entries. */
  readonly repeat?: RepeatEntries;
}

/** What the host stepper uploads besides the draw. */
interface StepInputs extends StepDraw {
  readonly x: Float32Array;
  readonly previous: Float32Array[];
  /**
   * The columns' item-table rows with the output bias as one more feature, `[cols, d+1]`: the session vector
   * gets a constant 1 appended, so one product adds the bias and its gradient (column sums of dScores, a slow
   * axis-0 reduction on wasm) comes out of the same product.
   */
  readonly columns: Float32Array;
}

/**
 * One GRU4Rec training step on a session-parallel mini-batch: the model's one forward ({@link gru4recStep}),
 * scores against [batch targets ‖ shared samples], BPR-max or sampled cross-entropy, gradients from TF.js
 * autodiff, then Adagrad/Adam updates of the GRU weights (dense) and of only the item-table and bias rows this
 * step touched (sparse).
 *
 * Parameters live in host Float32Arrays (Gru4RecParams): the step uploads the rows it touches and the dense
 * weights, and reads loss, new hidden states and every gradient back in ONE read. Row-sparse updates on the host
 * keep a 43k-row table cheap (a dense optimiser step over it costs ~180 ms on wasm).
 */
export class Gru4RecStepper {
  private readonly hidden: Float32Array[];
  private readonly optTable: OptimizedParameter;
  private readonly optInput: OptimizedParameter | undefined;
  private readonly optBias: OptimizedParameter;
  private readonly optLayers: { kernel: OptimizedParameter; recurrent: OptimizedParameter; bias: OptimizedParameter }[];
  private readonly optRepeat: OptimizedParameter | undefined;
  private readonly tableGrad: RowGradientAccumulator;
  private readonly inputGrad: RowGradientAccumulator | undefined;
  private readonly biasGrad: RowGradientAccumulator;
  private readonly sampled: Int32Array;
  private steps = 0;
  /** Gradients of the last step (kept only when `step` was called with `keepGradients`; for tests). */
  lastGradients: Gru4RecStepGradients | undefined;

  constructor(private readonly p: Gru4RecParams, private readonly c: Gru4RecConfig, private readonly sampler: PopularitySampler, private readonly rng: Rng) {
    const o: OptimizerOptions = { ...defaultOptimizerOptions, name: c.optimizer, learningRate: c.learningRate, momentum: c.momentum };
    this.hidden = c.layers.map((h) => new Float32Array(c.batchSize * h));
    this.optTable = new OptimizedParameter(p.itemTable, o);
    this.optInput = p.inputTable ? new OptimizedParameter(p.inputTable, o) : undefined;
    this.optBias = new OptimizedParameter(p.outputBias, o);
    this.optLayers = p.layers.map((l) => ({ kernel: new OptimizedParameter(l.kernel, o), recurrent: new OptimizedParameter(l.recurrent, o), bias: new OptimizedParameter(l.bias, o) }));
    this.optRepeat = p.repeatBias ? new OptimizedParameter(p.repeatBias, o) : undefined;
    const m = c.batchSize + c.nSample;
    // Repeat-aware training adds up to a window of each row's session items as columns.
    const extra = c.repeatBias ? c.batchSize * GRU4REC_REPEAT_WINDOW : 0;
    this.tableGrad = new RowGradientAccumulator(p.itemCount, p.outSize, m + extra + c.batchSize);
    this.inputGrad = p.inputTable ? new RowGradientAccumulator(p.itemCount, p.inSize, c.batchSize) : undefined;
    this.biasGrad = new RowGradientAccumulator(p.itemCount, 1, m + extra);
    this.sampled = new Int32Array(m);
  }

  /**
   * Trains on one mini-batch; returns the mean loss (backends with sync reads: cpu, wasm, tensorflow).
   * `apply: false` computes loss and gradients without updating anything (gradient checks).
   */
  step(batch: SessionBatch, apply = true, keepGradients = false): number {
    assertSyncReads('Gru4RecStepper.step', 'stepAsync');
    const inputs = this.prepare(batch);
    let read: Float32Array | undefined;
    tf.tidy(() => { read = this.compute(inputs).dataSync() as Float32Array; });
    return this.finish(batch, inputs, read!, apply, keepGradients);
  }

  /** {@link step} reading its one result with `await data()`: runs on every backend (webgpu included). */
  async stepAsync(batch: SessionBatch, apply = true, keepGradients = false): Promise<number> {
    if (backendReadsSync()) return this.step(batch, apply, keepGradients);
    const inputs = this.prepare(batch);
    const result = tf.tidy(() => this.compute(inputs));
    let read: Float32Array;
    try { read = (await result.data()) as Float32Array; } finally { result.dispose(); }
    return this.finish(batch, inputs, read, apply, keepGradients);
  }

  /** Zeroes all slots' hidden state (start of an epoch). */
  resetHidden(): void {
    for (const h of this.hidden) h.fill(0);
  }

  /** Gathers on the host what the step uploads: input rows, dropout masks, previous states, output columns. */
  private prepare(batch: SessionBatch): StepInputs {
    const { p } = this;
    const R = batch.size;
    this.steps++;
    const draw = drawStep(batch, this.c, p.itemCount, this.sampler, this.rng, p.inSize, p.layers.map((l) => l.size), this.sampled);
    const inTable = p.inputTable ?? p.itemTable;
    const e = p.inSize;
    const x = new Float32Array(R * e);
    for (let r = 0; r < R; r++) x.set(inTable.subarray(batch.inputs[r]! * e, (batch.inputs[r]! + 1) * e), r * e);
    const previous = p.layers.map((l, li) => {
      const h = l.size;
      const state = this.hidden[li]!;
      const hp = new Float32Array(R * h);
      for (let r = 0; r < R; r++) if (!batch.reset[r]) hp.set(state.subarray(batch.slots[r]! * h, (batch.slots[r]! + 1) * h), r * h);
      return hp;
    });
    const d = p.outSize;
    const w = d + 1;
    const columns = new Float32Array(draw.columnItems.length * w);
    draw.columnItems.forEach((it, j) => { columns.set(p.itemTable.subarray(it * d, (it + 1) * d), j * w); columns[j * w + d] = p.outputBias[it]!; });
    return { ...draw, x, previous, columns };
  }

  /**
   * The step on the backend: forward, loss, autodiff gradients, all concatenated into one tensor
   * [loss, new states…, d input rows, d columns (bias last in each row), d kernel, d recurrent, d bias per layer,
   * d repeat weights].
   */
  private compute(s: StepInputs): tf.Tensor1D {
    const { p } = this;
    const R = s.R;
    const Mc = s.columnItems.length;
    const d = p.outSize;
    const dense = p.layers.flatMap((l) => [tf.tensor2d(l.kernel, [l.inSize, 3 * l.size]), tf.tensor2d(l.recurrent, [l.size, 3 * l.size]), tf.tensor1d(l.bias)]);
    if (p.repeatBias) dense.push(tf.tensor1d(p.repeatBias));
    const previous = p.layers.map((l, i) => tf.tensor2d(s.previous[i]!, [R, l.size]));
    const { value, grads, states } = gru4recGradients(this.c, s, tf.tensor2d(s.x, [R, p.inSize]), tf.tensor2d(s.columns, [Mc, d + 1]), previous, dense);
    const out = tf.concat([tf.reshape(value, [1]), ...states.map((t) => tf.reshape(t, [-1])), ...grads.map((g) => tf.reshape(g, [-1]))]) as tf.Tensor1D;
    tf.dispose(states);
    return out;
  }

  /** Unpacks the one read: carries hidden states, accumulates row gradients, applies the optimisers. */
  private finish(batch: SessionBatch, s: StepInputs, read: Float32Array, apply: boolean, keepGradients: boolean): number {
    const { p } = this;
    const R = s.R;
    const d = p.outSize, e = p.inSize;
    const Mc = s.columnItems.length;
    let at = 0;
    const take = (n: number) => read.subarray(at, (at += n));
    const loss = perRowLoss(read[at++]!, R, this.c);
    p.layers.forEach((l, li) => {
      const h = l.size;
      const next = take(R * h);
      const state = this.hidden[li]!;
      for (let r = 0; r < R; r++) state.set(next.subarray(r * h, (r + 1) * h), batch.slots[r]! * h);
    });
    const dX = take(R * e);
    // d columns `[cols, d+1]`: per column the item row's gradient, then the bias gradient.
    const dColumns = take((d + 1) * Mc);
    const layerGrads = p.layers.map((l) => ({ kernel: take(l.inSize * 3 * l.size), recurrent: take(l.size * 3 * l.size), bias: take(3 * l.size) }));
    const repeatGrad = p.repeatBias ? take(p.repeatBias.length) : undefined;
    this.tableGrad.clear();
    this.biasGrad.clear();
    for (let j = 0; j < Mc; j++) {
      this.tableGrad.add(s.columnItems[j]!, dColumns, j * (d + 1));
      this.biasGrad.addScalar(s.columnItems[j]!, dColumns[j * (d + 1) + d]!);
    }
    const inGrad = this.inputGrad ?? this.tableGrad;
    this.inputGrad?.clear();
    for (let r = 0; r < R; r++) inGrad.add(batch.inputs[r]!, dX, r * e);
    if (keepGradients) {
      const tableRows = new Map<number, Float32Array>();
      for (let k = 0; k < this.tableGrad.count; k++) tableRows.set(this.tableGrad.rows[k]!, this.tableGrad.grad.slice(k * d, (k + 1) * d));
      const biasRows = new Map<number, number>();
      for (let k = 0; k < this.biasGrad.count; k++) biasRows.set(this.biasGrad.rows[k]!, this.biasGrad.grad[k]!);
      this.lastGradients = { layers: layerGrads.map((g) => ({ kernel: g.kernel.slice(), recurrent: g.recurrent.slice(), bias: g.bias.slice() })), tableRows, biasRows, ...(repeatGrad ? { repeatBias: repeatGrad.slice() } : {}) };
    }
    if (!apply) return loss;
    const t = this.steps;
    layerGrads.forEach((g, li) => {
      const opt = this.optLayers[li]!;
      opt.kernel.updateDense(g.kernel, t);
      opt.recurrent.updateDense(g.recurrent, t);
      opt.bias.updateDense(g.bias, t);
    });
    if (repeatGrad) this.optRepeat!.updateDense(repeatGrad, t);
    this.optTable.updateRows(this.tableGrad.rows, this.tableGrad.count, this.tableGrad.grad, d, t);
    if (this.optInput && this.inputGrad) this.optInput.updateRows(this.inputGrad.rows, this.inputGrad.count, this.inputGrad.grad, e, t);
    this.optBias.updateRows(this.biasGrad.rows, this.biasGrad.count, this.biasGrad.grad, 1, t);
    return loss;
  }
}

/**
 * Draws one step's dropout masks and sampled output columns (in a fixed order of the generator's use). With
 * `repeatBias` the rows' recent session items that no sampled column holds are appended as columns (once
 * each), so that the repeat scores meet every repeat candidate as a negative, not only the sampled ones.
 */
export function drawStep(batch: SessionBatch, c: Gru4RecConfig, itemCount: number, sampler: PopularitySampler, rng: Rng, inSize: number, layerSizes: readonly number[], scratch: Int32Array): StepDraw {
  const R = batch.size;
  const inputMask = dropoutMask(rng, R * inSize, c.dropoutEmbedding);
  const layerMasks = layerSizes.map((h) => dropoutMask(rng, R * h, c.dropoutHidden));
  const M = R + c.nSample;
  scratch.set(batch.targets.subarray(0, R));
  sampler.sample(rng, scratch, R, M);
  const span = c.repeatBias ? rowSpans(batch) : undefined;
  const columns = span ? withRecentItems(scratch.subarray(0, M), R, span) : scratch.subarray(0, M);
  if (c.loss === 'bpr-max') {
    const items = columns.slice();
    const repeat = span && repeatEntries(R, span, GRU4REC_REPEAT_WINDOW, columnsHolding(items));
    return { R, inputMask, layerMasks, columnItems: items, sampledItems: items, ...(repeat ? { repeat } : {}) };
  }
  // Cross-entropy scores each distinct item once: a repeated item's column carries log(copies) in its logit.
  const merged = mergeColumns(columns, R, itemCount);
  const logitShift = Float32Array.from(merged.items, (it, j) => merged.logCount[j]! - (c.logq > 0 ? c.logq * sampler.logProbability[it]! : 0));
  const targetLogCount = Float32Array.from(merged.targetColumn, (col) => merged.logCount[col]!);
  const repeat = span && withColumnLookup(merged, itemCount, (columnOf) => repeatEntries(R, span, GRU4REC_REPEAT_WINDOW, (it, add) => { if (columnOf[it]! >= 0) add(columnOf[it]!); }));
  return { R, inputMask, layerMasks, columnItems: merged.items, logitShift, targetColumn: merged.targetColumn, targetLogCount, ...(repeat ? { repeat } : {}) };
}

/** Each row's session up to its input click (only the input itself for a batch without history). */
function rowSpans(batch: SessionBatch): RowSpan {
  const h = batch.history;
  if (!h) return (r) => ({ items: batch.inputs, start: r, end: r });
  return (r) => ({ items: h.items, start: h.start[r]!, end: h.position[r]! });
}

/** `columns` followed by the rows' recent session items that it does not hold, once each. */
function withRecentItems(columns: Int32Array, rows: number, span: RowSpan): Int32Array {
  const held = new Set(columns);
  const extra: number[] = [];
  for (let r = 0; r < rows; r++) {
    const { items, start, end } = span(r);
    forEachRecentItem(items, start, end, GRU4REC_REPEAT_WINDOW, (it) => { if (!held.has(it)) { held.add(it); extra.push(it); } });
  }
  if (extra.length === 0) return columns;
  const out = new Int32Array(columns.length + extra.length);
  out.set(columns);
  out.set(extra, columns.length);
  return out;
}

/** `columnsOf` for repeatEntries over unmerged columns: every column holding the item. */
function columnsHolding(items: Int32Array): (item: number, add: (column: number) => void) => void {
  const at = new Map<number, number[]>();
  items.forEach((it, j) => { const l = at.get(it); if (l) l.push(j); else at.set(it, [j]); });
  return (it, add) => { for (const j of at.get(it) ?? []) add(j); };
}

/**
 * The objective is the rows' summed loss divided by the configured batch size, not their mean. At the end of an
 * epoch the session-parallel batch dwindles to the rows of the last few long sessions; a mean would give each of
 * those steps a full batch's update from one to three sessions, right before the epoch's model is kept. Measured
 * on yoochoose-100k (hidden 64, no dropout, one epoch): test Recall@20 0.566 with the mean, 0.589 with the sum over
 * the batch size (as the official GRU4Rec normalises); see docs/experiments/gru4rec.md. {@link perRowLoss} turns
 * the objective back into the rows' mean loss for reports.
 *
 * One step's loss and its autodiff gradients with respect to the input rows `x` `[R, e]`, the output columns'
 * rows `columns` `[cols, d+1]` (the output bias as the last feature) and the dense GRU weights (kernel, recurrent, bias per layer; then the repeat weights with config `repeatBias`), plus each layer's new state (kept: the caller frees
 * them). The one place both steppers (host and device parameters) build the training graph.
 */
export function gru4recGradients(c: Gru4RecConfig, s: StepDraw, x: tf.Tensor2D, columns: tf.Tensor2D, previous: readonly tf.Tensor2D[], dense: readonly tf.Tensor[]): { value: tf.Scalar; grads: tf.Tensor[]; states: tf.Tensor2D[] } {
  const R = s.R;
  const ones = tf.ones([R, 1]);
  const dropout = { input: tf.tensor2d(s.inputMask, x.shape), layers: previous.map((h, i) => tf.tensor2d(s.layerMasks[i]!, h.shape)) };
  const masks = s.sampledItems ? sampledMasks(s.sampledItems, R) : undefined;
  let states: tf.Tensor2D[] = [];
  const lossOf = (xRows: tf.Tensor, columnRows: tf.Tensor, ...w: tf.Tensor[]): tf.Scalar => {
    const layers: GruCellWeights[] = previous.map((_, i) => ({ kernel: w[3 * i] as tf.Tensor2D, recurrent: w[3 * i + 1] as tf.Tensor2D, bias: w[3 * i + 2] as tf.Tensor1D }));
    const out = gru4recStep(xRows as tf.Tensor2D, previous, layers, dropout);
    states = out.states.map((t) => tf.keep(t));
    let scores = scoreRows(tf.concat([out.output, ones], 1) as tf.Tensor2D, columnRows as tf.Tensor2D);
    const repeatWeights = w[3 * previous.length] as tf.Tensor1D | undefined;
    if (repeatWeights) scores = addRepeatLogits(scores, repeatWeights, s.repeat ?? { indices: new Int32Array(0), distance: new Int32Array(0) });
    if (masks) return tf.mul(bprMax({ scores, ...masks }, c.bpreg, c.finalActivation === 'elu'), R / c.batchSize) as tf.Scalar;
    const logits = tf.add(scores, tf.tensor1d(s.logitShift!)) as tf.Tensor2D;
    return tf.div(mergedCrossEntropy(logits, s.targetColumn!, s.targetLogCount!), c.batchSize) as tf.Scalar;
  };
  const { value, grads } = tf.valueAndGrads(lossOf)([x, columns, ...dense]);
  return { value, grads, states };
}

/** The rows' mean loss of a step from its objective ({@link gru4recGradients}: summed over rows / batch size). */
export function perRowLoss(objective: number, rows: number, c: Gru4RecConfig): number {
  return (objective * c.batchSize) / rows;
}
