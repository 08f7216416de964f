import { tf } from '../nn/gradients.js';
import { DeviceOptimizedParameter } from '../training/device-optimizer.js';
import { defaultOptimizerOptions, type OptimizerOptions } from '../training/optimizers.js';
import type { Rng } from '../training/rng.js';
import type { PopularitySampler } from '../training/sampler.js';
import type { TransformerConfig } from './config.js';
import type { TransformerParams } from './params.js';
import { prepareStep, stepLossAndGradients, type EpochSchedule, type TrainingWindow } from './train-step.js';

/**
 * Transformer training with every weight (the item table, the output bias, the dense weights) and the
 * optimiser state on the TF.js backend: a step uploads only what {@link prepareStep} builds on the host (ids,
 * sampled columns, sparse repeat/transition entries, dropout masks), gathers the step's item rows and bias
 * entries there, runs the same loss and autodiff as {@link TransformerStepper} ({@link stepLossAndGradients}),
 * and updates the touched table rows (row-sparse Adam/Adagrad) and the dense weights there. Nothing is read back
 * per step: the loss accumulates on the backend and {@link readLoss} reads it (trainBatches does every 16
 * steps), {@link copyToHost} reads the weights (once per epoch). For backends whose reads are asynchronous and
 * costly (webgpu), where a read per step would stall the GPU pipeline.
 */
export class TransformerDeviceStepper {
  /** Item table `[items, d]` (input rows and output columns, tied). */
  private readonly table: DeviceOptimizedParameter;
  /** Output bias `[items, 1]`. */
  private readonly bias: DeviceOptimizedParameter;
  /**
   * Every dense weight, flattened one after another (in {@link TransformerParams.dense} order): one optimiser
   * update per step instead of one per weight (each op is a dispatch on a GPU).
   */
  private readonly dense: DeviceOptimizedParameter;
  private readonly denseLayout: { readonly shape: number[]; readonly begin: number; readonly size: number }[] = [];
  private readonly lossSum: tf.Variable;
  private lossEvents = 0;
  private steps = 0;

  constructor(private readonly p: TransformerParams, private readonly c: TransformerConfig, private readonly sampler: PopularitySampler, private readonly rng: Rng) {
    const o: OptimizerOptions = { ...defaultOptimizerOptions, name: c.optimizer, learningRate: c.learningRate, momentum: c.momentum };
    this.table = new DeviceOptimizedParameter(p.itemTable, [p.itemCount, c.hiddenSize], o);
    this.bias = new DeviceOptimizedParameter(p.outputBias, [p.itemCount, 1], o);
    let begin = 0;
    for (const w of p.dense) { this.denseLayout.push({ shape: w.shape, begin, size: w.values.length }); begin += w.values.length; }
    this.dense = new DeviceOptimizedParameter(this.flatDense(), [begin], o);
    this.lossSum = tf.variable(tf.scalar(0), false);
  }

  /** Applies an epoch's schedule (the learning-rate scale of the per-epoch decay). */
  setSchedule(schedule: EpochSchedule): void {
    for (const w of [this.table, this.bias, this.dense]) w.learningRateScale = schedule.learningRateScale;
  }

  /** Queues one training step on windows (as {@link TransformerStepper.step}); nothing is read back. */
  step(windows: readonly TrainingWindow[]): void {
    const { p, c } = this;
    this.steps++;
    const s = prepareStep(p, c, this.sampler, this.rng, windows);
    const rows = s.B * s.T;
    // Padding rows gather row 0 and are zeroed (the host stepper uploads zeros there); their gradients are dropped.
    const mask = Float32Array.from(s.inputItems, (it) => (it >= 0 ? 1 : 0));
    const inputIds = Int32Array.from(s.inputItems, (it) => Math.max(0, it));
    const trainedInputItems = Int32Array.from(s.validRows, (r) => s.inputItems[r]!);
    const t = this.steps;
    tf.tidy(() => {
      const columns = tf.tensor1d(s.columnItems, 'int32');
      const { value, grads } = stepLossAndGradients(p, c, s, {
        inputRows: tf.mul(tf.gather(this.table.values, tf.tensor1d(inputIds, 'int32')), tf.tensor2d(mask, [rows, 1])) as tf.Tensor2D,
        outputRows: tf.gather(this.table.values, columns) as tf.Tensor2D,
        bias: tf.reshape(tf.gather(this.bias.values, columns), [-1]) as tf.Tensor1D,
        dense: this.denseLayout.map((l) => tf.reshape(tf.slice(this.dense.values, l.begin, l.size), l.shape)),
      });
      const [dInput, dOutput, dBias, ...dDense] = grads as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, ...tf.Tensor[]];
      const trainedInputGrads = tf.gather(dInput, tf.tensor1d(s.validRows, 'int32'));
      this.table.updateGatheredRows(concatIds(s.columnItems, trainedInputItems), tf.concat([dOutput, trainedInputGrads], 0), t);
      this.bias.updateGatheredRows(s.columnItems, tf.reshape(dBias, [-1, 1]), t);
      this.dense.updateDense(tf.concat(dDense.map((g) => tf.reshape(g, [-1]))), t);
      this.lossSum.assign(tf.add(this.lossSum, tf.mul(value, s.P)));
    });
    this.lossEvents += s.P;
  }

  /** Mean loss per trained position since the last call, and how many positions (one read; none if no step ran). */
  async readLoss(): Promise<{ loss: number; events: number }> {
    const events = this.lossEvents;
    if (events === 0) return { loss: 0, events };
    // Taken and reset before the await, so a step queued meanwhile counts towards the next read.
    const taken = tf.clone(this.lossSum);
    tf.tidy(() => this.lossSum.assign(tf.scalar(0)));
    this.lossEvents = 0;
    try {
      return { loss: (await taken.data())[0]! / events, events };
    } finally {
      taken.dispose();
    }
  }

  /** Reads every weight into the host parameters, in one read (for validation, checkpoints and saving). */
  async copyToHost(): Promise<void> {
    const targets = this.p.named().map((w) => w.values);
    const all = tf.tidy(() => tf.concat([this.table, this.bias, this.dense].map((w) => tf.reshape(w.values, [-1]))));
    let read: Float32Array;
    try { read = (await all.data()) as Float32Array; } finally { all.dispose(); }
    let at = 0;
    for (const w of targets) { w.set(read.subarray(at, at + w.length)); at += w.length; }
  }

  /** Uploads the host weights (e.g. the best epoch's, restored by the trainer): the inverse of {@link copyToHost}; the optimiser state stays. */
  copyFromHost(): void {
    this.table.load(this.p.itemTable);
    this.bias.load(this.p.outputBias);
    this.dense.load(this.flatDense());
  }

  /** Every host dense weight, one after another in {@link denseLayout} order. */
  private flatDense(): Float32Array {
    const last = this.denseLayout[this.denseLayout.length - 1];
    const flat = new Float32Array(last ? last.begin + last.size : 0);
    this.p.dense.forEach((w, i) => flat.set(w.values, this.denseLayout[i]!.begin));
    return flat;
  }

  dispose(): void {
    for (const w of [this.table, this.bias, this.dense]) w.dispose();
    this.lossSum.dispose();
  }
}

function concatIds(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
