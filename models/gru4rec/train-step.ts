import { bprMaxLoss, addColumnBias, addColumnSums } from '../training/losses.js';
import { columnShift, mergeColumns, sampledSoftmaxReading } from '../training/sampled-softmax.js';
import { assertSyncReads, mat, matMulRead, runReadsAsync, runReadsSync, type ReadingComputation } from '../training/matmul.js';
import { OptimizedParameter, RowGradientAccumulator, defaultOptimizerOptions, type OptimizerOptions } from '../training/optimizers.js';
import type { Rng } from '../training/rng.js';
import { dropoutMask } from '../training/rng.js';
import type { PopularitySampler } from '../training/sampler.js';
import type { SessionBatch } from '../training/session-batcher.js';
import type { Gru4RecConfig } from './config.js';
import type { Gru4RecParams } from './params.js';

interface LayerCache {
  x: Float32Array; // layer input [R, in] (after dropout)
  hp: Float32Array; // previous hidden [R, h]
  gates: Float32Array; // r, z, n per row [R, 3h]
  c: Float32Array; // recurrent product [R, 3h] (its n part is needed for backward)
  mask: Float32Array; // output dropout multipliers [R, h]
  out: Float32Array; // dropped-out output [R, h]
}

/**
 * One GRU4Rec training step on a session-parallel mini-batch: GRU forward (one step, no BPTT), scores
 * against [batch targets ‖ shared samples], loss gradient, backward, and Adagrad/Adam updates of the GRU
 * weights (dense) and of only the item-table and bias rows this step touched (sparse).
 */
export class Gru4RecStepper {
  private readonly hidden: Float32Array[];
  private readonly optTable: OptimizedParameter;
  private readonly optInput: OptimizedParameter | undefined;
  private readonly optBias: OptimizedParameter;
  private readonly optLayers: { kernel: OptimizedParameter; recurrent: OptimizedParameter; bias: OptimizedParameter }[];
  private readonly tableGrad: RowGradientAccumulator;
  private readonly inputGrad: RowGradientAccumulator | undefined;
  private readonly biasGrad: RowGradientAccumulator;
  private readonly colItems: Int32Array;
  private steps = 0;

  constructor(private readonly p: Gru4RecParams, private readonly c: Gru4RecConfig, private readonly sampler: PopularitySampler, private readonly rng: Rng) {
    const o: OptimizerOptions = { ...defaultOptimizerOptions, name: c.optimizer, learningRate: c.learningRate, momentum: c.momentum };
    this.hidden = c.layers.map((h) => new Float32Array(c.batchSize * h));
    this.optTable = new OptimizedParameter(p.itemTable, o);
    this.optInput = p.inputTable ? new OptimizedParameter(p.inputTable, o) : undefined;
    this.optBias = new OptimizedParameter(p.outputBias, o);
    this.optLayers = p.layers.map((l) => ({ kernel: new OptimizedParameter(l.kernel, o), recurrent: new OptimizedParameter(l.recurrent, o), bias: new OptimizedParameter(l.bias, o) }));
    const m = c.batchSize + c.nSample;
    this.tableGrad = new RowGradientAccumulator(p.itemCount, p.outSize, m + c.batchSize);
    this.inputGrad = p.inputTable ? new RowGradientAccumulator(p.itemCount, p.inSize, c.batchSize) : undefined;
    this.biasGrad = new RowGradientAccumulator(p.itemCount, 1, m);
    this.colItems = new Int32Array(m);
  }

  /** Gradients of the last step (kept only when `step` was called with `keepGradients`; for tests). */
  lastGradients: { layers: { kernel: Float32Array; recurrent: Float32Array; bias: Float32Array }[]; tableRows: Map<number, Float32Array>; biasRows: Map<number, number> } | undefined;

  /**
   * Trains on one mini-batch; returns the mean loss. `apply: false` computes loss and gradients without
   * updating anything (gradient checks).
   */
  step(batch: SessionBatch, apply = true, keepGradients = false): number {
    assertSyncReads('Gru4RecStepper.step', 'stepAsync');
    return runReadsSync(this.computeStep(batch, apply, keepGradients));
  }

  /** {@link step} reading every matrix product with `await data()`: runs on every backend (webgpu included). */
  stepAsync(batch: SessionBatch, apply = true, keepGradients = false): Promise<number> {
    return runReadsAsync(this.computeStep(batch, apply, keepGradients));
  }

  /** The step, yielding each matrix product to be computed on the backend and read back by the driver. */
  private *computeStep(batch: SessionBatch, apply: boolean, keepGradients: boolean): ReadingComputation<number> {
    const { p, c } = this;
    const R = batch.size;
    const S = c.nSample;
    const M = R + S;
    this.steps++;
    // Input embedding with dropout.
    const inTable = p.inputTable ?? p.itemTable;
    const e = p.inSize;
    const x0 = new Float32Array(R * e);
    const mask0 = dropoutMask(this.rng, R * e, c.dropoutEmbedding);
    for (let r = 0; r < R; r++) {
      const src = batch.inputs[r]! * e;
      for (let i = 0; i < e; i++) x0[r * e + i] = inTable[src + i]! * mask0[r * e + i]!;
    }
    // GRU layers forward.
    const caches: LayerCache[] = [];
    let x = x0;
    for (let li = 0; li < p.layers.length; li++) {
      const l = p.layers[li]!;
      const h = l.size;
      const state = this.hidden[li]!;
      const hp = new Float32Array(R * h);
      for (let r = 0; r < R; r++) {
        if (batch.reset[r]) continue;
        const s = batch.slots[r]! * h;
        hp.set(state.subarray(s, s + h), r * h);
      }
      const a = yield matMulRead(mat(x, R, l.inSize), mat(l.kernel, l.inSize, 3 * h));
      const cc = yield matMulRead(mat(hp, R, h), mat(l.recurrent, h, 3 * h));
      const gates = new Float32Array(R * 3 * h);
      const mask = dropoutMask(this.rng, R * h, c.dropoutHidden);
      const out = new Float32Array(R * h);
      for (let r = 0; r < R; r++) {
        const g = r * 3 * h;
        const slot = batch.slots[r]! * h;
        for (let i = 0; i < h; i++) {
          const rg = sigmoid(a[g + i]! + cc[g + i]! + l.bias[i]!);
          const zg = sigmoid(a[g + h + i]! + cc[g + h + i]! + l.bias[h + i]!);
          const ng = Math.tanh(a[g + 2 * h + i]! + l.bias[2 * h + i]! + rg * cc[g + 2 * h + i]!);
          gates[g + i] = rg;
          gates[g + h + i] = zg;
          gates[g + 2 * h + i] = ng;
          const hn = (1 - zg) * ng + zg * hp[r * h + i]!;
          state[slot + i] = hn;
          out[r * h + i] = hn * mask[r * h + i]!;
        }
      }
      caches.push({ x, hp, gates, c: cc, mask, out });
      x = out;
    }
    // Scores against the batch's targets and the shared samples.
    const d = p.outSize;
    const cols = this.colItems;
    cols.set(batch.targets.subarray(0, R));
    this.sampler.sample(this.rng, cols, R, M);
    const finalOut = x;
    // Cross-entropy scores each distinct item once on the backend (merged columns, same loss); BPR-max every column.
    const merged = c.loss === 'bpr-max' ? undefined : mergeColumns(cols.subarray(0, M), R, p.itemCount);
    const colItems = merged ? merged.items : cols.subarray(0, M);
    const Mc = colItems.length;
    const o = new Float32Array(Mc * d);
    for (let j = 0; j < Mc; j++) {
      const src = colItems[j]! * d;
      o.set(p.itemTable.subarray(src, src + d), j * d);
    }
    let loss: number, dOut: Float32Array, dO: Float32Array, colGrad: ArrayLike<number>;
    if (merged) {
      const shift = columnShift(merged, p.outputBias, this.sampler, c.logq);
      ({ loss, dH: dOut, dO, columnGrad: colGrad } = yield* sampledSoftmaxReading(finalOut, R, d, o, merged, shift));
    } else {
      const scores = yield matMulRead(mat(finalOut, R, d), mat(o, M, d), false, true);
      const colBias = new Float32Array(M);
      for (let j = 0; j < M; j++) colBias[j] = p.outputBias[cols[j]!]!;
      addColumnBias(scores, R, M, colBias);
      const dS = new Float32Array(R * M);
      loss = bprMaxLoss({ scores, rows: R, cols: M, colItems: cols.subarray(0, M) }, dS, c.bpreg, c.finalActivation === 'elu');
      // Output layer backward.
      dOut = yield matMulRead(mat(dS, R, M), mat(o, M, d));
      dO = yield matMulRead(mat(dS, R, M), mat(finalOut, R, d), true, false);
      const sums = new Float64Array(M);
      addColumnSums(dS, R, M, sums);
      colGrad = sums;
    }
    this.tableGrad.clear();
    this.biasGrad.clear();
    for (let j = 0; j < Mc; j++) {
      this.tableGrad.add(colItems[j]!, dO, j * d);
      this.biasGrad.addScalar(colItems[j]!, colGrad[j]!);
    }
    // GRU layers backward (one step: the previous hidden state is treated as a constant).
    const layerGrads: { kernel: Float32Array; recurrent: Float32Array; bias: Float32Array }[] = [];
    for (let li = p.layers.length - 1; li >= 0; li--) {
      const l = p.layers[li]!;
      const h = l.size;
      const k = caches[li]!;
      const dA = new Float32Array(R * 3 * h);
      const dC = new Float32Array(R * 3 * h);
      const db = new Float32Array(3 * h);
      for (let r = 0; r < R; r++) {
        const g = r * 3 * h;
        for (let i = 0; i < h; i++) {
          const dh = dOut[r * h + i]! * k.mask[r * h + i]!;
          const rg = k.gates[g + i]!, zg = k.gates[g + h + i]!, ng = k.gates[g + 2 * h + i]!;
          const dn = dh * (1 - zg);
          const dz = dh * (k.hp[r * h + i]! - ng);
          const dan = dn * (1 - ng * ng);
          const dr = dan * k.c[g + 2 * h + i]!;
          const dar = dr * rg * (1 - rg);
          const daz = dz * zg * (1 - zg);
          dA[g + i] = dar; dA[g + h + i] = daz; dA[g + 2 * h + i] = dan;
          dC[g + i] = dar; dC[g + h + i] = daz; dC[g + 2 * h + i] = dan * rg;
          db[i] = db[i]! + dar; db[h + i] = db[h + i]! + daz; db[2 * h + i] = db[2 * h + i]! + dan;
        }
      }
      const dK = yield matMulRead(mat(k.x, R, l.inSize), mat(dA, R, 3 * h), true, false);
      const dU = yield matMulRead(mat(k.hp, R, h), mat(dC, R, 3 * h), true, false);
      dOut = yield matMulRead(mat(dA, R, 3 * h), mat(l.kernel, l.inSize, 3 * h), false, true);
      layerGrads[li] = { kernel: dK, recurrent: dU, bias: db };
    }
    // dOut is now d(loss)/d(x0): through the embedding dropout into the input rows.
    const inGrad = this.inputGrad ?? this.tableGrad;
    if (this.inputGrad) this.inputGrad.clear();
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < e; i++) dOut[r * e + i] = dOut[r * e + i]! * mask0[r * e + i]!;
      inGrad.add(batch.inputs[r]!, dOut, r * e);
    }
    if (keepGradients) {
      const tableRows = new Map<number, Float32Array>();
      for (let k = 0; k < this.tableGrad.count; k++) tableRows.set(this.tableGrad.rows[k]!, this.tableGrad.grad.slice(k * d, (k + 1) * d));
      const biasRows = new Map<number, number>();
      for (let k = 0; k < this.biasGrad.count; k++) biasRows.set(this.biasGrad.rows[k]!, this.biasGrad.grad[k]!);
      this.lastGradients = { layers: layerGrads, tableRows, biasRows };
    }
    if (!apply) return loss / R;
    // Updates.
    const t = this.steps;
    p.layers.forEach((_, li) => {
      const g = layerGrads[li]!;
      const opt = this.optLayers[li]!;
      opt.kernel.updateDense(g.kernel, t);
      opt.recurrent.updateDense(g.recurrent, t);
      opt.bias.updateDense(g.bias, t);
    });
    this.optTable.updateRows(this.tableGrad.rows, this.tableGrad.count, this.tableGrad.grad, d, t);
    if (this.optInput && this.inputGrad) this.optInput.updateRows(this.inputGrad.rows, this.inputGrad.count, this.inputGrad.grad, e, t);
    this.optBias.updateRows(this.biasGrad.rows, this.biasGrad.count, this.biasGrad.grad, 1, t);
    return loss / R;
  }

  /** Zeroes all slots' hidden state (start of an epoch). */
  resetHidden(): void {
    for (const h of this.hidden) h.fill(0);
  }
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}
