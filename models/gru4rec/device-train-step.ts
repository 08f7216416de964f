import { tf } from '../nn/gradients.js';
import { DeviceOptimizedParameter, sumRows, uniqueRows } from '../training/device-optimizer.js';
import { defaultOptimizerOptions, type OptimizerOptions } from '../training/optimizers.js';
import type { Rng } from '../training/rng.js';
import type { PopularitySampler } from '../training/sampler.js';
import type { SessionBatch } from '../training/session-batcher.js';
import type { Gru4RecConfig } from './config.js';
import type { Gru4RecParams } from './params.js';
import { drawStep, gru4recGradients } from './train-step.js';

/**
 * GRU4Rec training with every parameter, optimiser state and hidden state on the TF.js backend: a step
 * uploads only the batch's ids and random draws, runs the same graph as {@link Gru4RecStepper}
 * ({@link gru4recGradients}), and updates the touched table rows and the dense weights there. Nothing is read
 * back per step: the loss accumulates on the backend and {@link readLoss} reads it (the training loop does every
 * 16 steps), {@link copyToHost} reads the weights (once per epoch). For backends whose reads are asynchronous
 * and costly (webgpu), where a read per step would stall the GPU pipeline.
 */
export class Gru4RecDeviceStepper {
  /** Item table with the output bias as a last column, `[items, d+1]`. */
  private readonly table: DeviceOptimizedParameter;
  /** Separate input embedding `[items, e]` when not constrained. */
  private readonly input: DeviceOptimizedParameter | undefined;
  private readonly dense: DeviceOptimizedParameter[];
  private readonly hidden: tf.Variable[];
  private readonly lossSum: tf.Variable;
  private lossEvents = 0;
  private readonly sampled: Int32Array;
  private steps = 0;

  constructor(private readonly p: Gru4RecParams, private readonly c: Gru4RecConfig, private readonly sampler: PopularitySampler, private readonly rng: Rng) {
    const o: OptimizerOptions = { ...defaultOptimizerOptions, name: c.optimizer, learningRate: c.learningRate, momentum: c.momentum };
    this.table = new DeviceOptimizedParameter(augmentedTable(p), [p.itemCount, p.outSize + 1], o);
    this.input = p.inputTable ? new DeviceOptimizedParameter(p.inputTable, [p.itemCount, p.inSize], o) : undefined;
    this.dense = p.layers.flatMap((l) => [
      new DeviceOptimizedParameter(l.kernel, [l.inSize, 3 * l.size], o),
      new DeviceOptimizedParameter(l.recurrent, [l.size, 3 * l.size], o),
      new DeviceOptimizedParameter(l.bias, [3 * l.size], o),
    ]);
    if (p.repeatBias) this.dense.push(new DeviceOptimizedParameter(p.repeatBias, [p.repeatBias.length], o));
    this.hidden = c.layers.map((h) => tf.variable(tf.zeros([c.batchSize, h]), false));
    this.lossSum = tf.variable(tf.scalar(0), false);
    this.sampled = new Int32Array(c.batchSize + c.nSample);
  }

  /** Queues one training step on the backend; nothing is read back. */
  step(batch: SessionBatch): void {
    const { p, c } = this;
    const R = batch.size;
    this.steps++;
    const t = this.steps;
    const draw = drawStep(batch, c, p.itemCount, this.sampler, this.rng, p.inSize, p.layers.map((l) => l.size), this.sampled);
    const d = p.outSize;
    // Unique rows of the step and, per gathered row, its place among them (duplicates' gradients add up there).
    const tableRows = uniqueRows(this.input ? [draw.columnItems] : [draw.columnItems, batch.inputs.subarray(0, R)]);
    const inputRows = this.input ? uniqueRows([batch.inputs.subarray(0, R)]) : undefined;
    tf.tidy(() => {
      const inputs = tf.tensor1d(batch.inputs.subarray(0, R), 'int32');
      const slots = tf.tensor1d(batch.slots.subarray(0, R), 'int32');
      const keep = tf.tensor2d(Float32Array.from(batch.reset.subarray(0, R), (r) => 1 - r), [R, 1]);
      const x = this.input ? tf.gather(this.input.values, inputs) : tf.slice(tf.gather(this.table.values, inputs), [0, 0], [R, d]);
      const columns = tf.gather(this.table.values, tf.tensor1d(draw.columnItems, "int32")) as tf.Tensor2D;
      const previous = this.hidden.map((h) => tf.mul(tf.gather(h, slots), keep) as tf.Tensor2D);
      const { value, grads, states } = gru4recGradients(c, draw, x as tf.Tensor2D, columns, previous, this.dense.map((w) => w.values));
      const [dX, dColumns, ...dDense] = grads as [tf.Tensor2D, tf.Tensor2D, ...tf.Tensor[]];
      const rowGrads = this.input ? dColumns : tf.concat([dColumns, tf.pad(dX, [[0, 0], [0, 1]])], 0);
      // Rows gathered only as inputs have no bias gradient: their bias entry is left alone (see updateRows).
      const biasTouched = new Float32Array(tableRows.rows.length);
      for (let j = 0; j < draw.columnItems.length; j++) biasTouched[tableRows.segment[j]!] = 1;
      const touched = this.input ? undefined : tf.concat([tf.ones([tableRows.rows.length, d]), tf.tensor2d(biasTouched, [tableRows.rows.length, 1])], 1) as tf.Tensor2D;
      this.table.updateRows(tf.tensor1d(tableRows.rows, 'int32'), sumRows(rowGrads, tableRows, d + 1), t, touched);
      if (this.input && inputRows) this.input.updateRows(tf.tensor1d(inputRows.rows, 'int32'), sumRows(dX, inputRows, p.inSize), t);
      this.dense.forEach((w, i) => w.updateDense(dDense[i]!, t));
      const at = tf.expandDims(slots, 1);
      this.hidden.forEach((h, i) => h.assign(tf.tensorScatterUpdate(h, at, states[i]!)));
      this.lossSum.assign(tf.add(this.lossSum, tf.mul(value, c.batchSize)));
      tf.dispose(states);
    });
    this.lossEvents += R;
  }

  /** Mean loss per training event since the last call, and how many events (one read). */
  async readLoss(): Promise<{ loss: number; events: number }> {
    const events = this.lossEvents;
    const sum = (await this.lossSum.data())[0]!;
    this.lossSum.assign(tf.scalar(0));
    this.lossEvents = 0;
    return { loss: events > 0 ? sum / events : 0, events };
  }

  /** Zeroes all slots' hidden state (start of an epoch). */
  resetHidden(): void {
    for (const h of this.hidden) h.assign(tf.zerosLike(h));
  }

  /** Reads every weight into the host parameters (for validation, checkpoints and saving). */
  async copyToHost(): Promise<void> {
    const { p } = this;
    const d = p.outSize;
    const all = tf.tidy(() => tf.concat([tf.reshape(this.table.values, [-1]), ...(this.input ? [tf.reshape(this.input.values, [-1])] : []), ...this.dense.map((w) => tf.reshape(w.values, [-1]))]));
    let read: Float32Array;
    try { read = (await all.data()) as Float32Array; } finally { all.dispose(); }
    let at = 0;
    for (let i = 0; i < p.itemCount; i++) {
      p.itemTable.set(read.subarray(at, at + d), i * d);
      p.outputBias[i] = read[at + d]!;
      at += d + 1;
    }
    if (p.inputTable) { p.inputTable.set(read.subarray(at, at + p.inputTable.length)); at += p.inputTable.length; }
    for (const l of p.layers) {
      for (const w of [l.kernel, l.recurrent, l.bias]) { w.set(read.subarray(at, at + w.length)); at += w.length; }
    }
    if (p.repeatBias) p.repeatBias.set(read.subarray(at, at + p.repeatBias.length));
  }

  /** Uploads the host weights (e.g. the best epoch's, restored by the trainer): the inverse of {@link copyToHost}; the optimiser state stays. */
  copyFromHost(): void {
    const { p } = this;
    this.table.load(augmentedTable(p));
    if (p.inputTable) this.input?.load(p.inputTable);
    const host = p.layers.flatMap((l) => [l.kernel, l.recurrent, l.bias]);
    if (p.repeatBias) host.push(p.repeatBias);
    this.dense.forEach((w, i) => w.load(host[i]!));
  }

  dispose(): void {
    this.table.dispose();
    this.input?.dispose();
    for (const w of this.dense) w.dispose();
    tf.dispose([...this.hidden, this.lossSum]);
  }
}

/** The item table with the output bias as a last column, `[items, d+1]` (the device stepper's layout). */
function augmentedTable(p: Gru4RecParams): Float32Array {
  const d = p.outSize;
  const augmented = new Float32Array(p.itemCount * (d + 1));
  for (let i = 0; i < p.itemCount; i++) {
    augmented.set(p.itemTable.subarray(i * d, (i + 1) * d), i * (d + 1));
    augmented[i * (d + 1) + d] = p.outputBias[i]!;
  }
  return augmented;
}
