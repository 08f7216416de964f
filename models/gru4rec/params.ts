import { copyNamedWeights } from '../training/named-weights.js';
import type { Rng } from '../training/rng.js';
import { GRU4REC_REPEAT_WINDOW, inputSize, type Gru4RecConfig } from './config.js';

/** One GRU layer: gates in the order [reset, update, candidate] along the last axis. */
export interface GruLayerParams {
  readonly inSize: number;
  readonly size: number;
  /** Input kernel `[inSize, 3·size]`. */
  kernel: Float32Array;
  /** Recurrent kernel `[size, 3·size]`. */
  recurrent: Float32Array;
  /** Bias `[3·size]`. */
  bias: Float32Array;
}

/**
 * All GRU4Rec weights as Float32Arrays (the training engine updates them in place; the TF.js scorer uploads
 * them). Names match the saved TF.js weight names.
 */
export class Gru4RecParams {
  /** Output item table `[itemCount, d]` (also the input embedding when constrained). */
  itemTable: Float32Array;
  /** Output bias `[itemCount]`. */
  outputBias: Float32Array;
  /** Separate input embedding `[itemCount, e]` when not constrained, else undefined. */
  inputTable: Float32Array | undefined;
  readonly layers: GruLayerParams[];
  /** Repeat-aware scores per recency `[GRU4REC_REPEAT_WINDOW]` (config `repeatBias`), else undefined; starts at 0. */
  readonly repeatBias: Float32Array | undefined;
  readonly outSize: number;
  readonly inSize: number;

  constructor(readonly config: Gru4RecConfig, public itemCount: number) {
    this.outSize = config.layers[config.layers.length - 1]!;
    this.inSize = inputSize(config);
    this.itemTable = new Float32Array(itemCount * this.outSize);
    this.outputBias = new Float32Array(itemCount);
    this.inputTable = config.constrainedEmbedding ? undefined : new Float32Array(itemCount * this.inSize);
    this.repeatBias = config.repeatBias ? new Float32Array(GRU4REC_REPEAT_WINDOW) : undefined;
    this.layers = [];
    let prev = this.inSize;
    for (const size of config.layers) {
      this.layers.push({ inSize: prev, size, kernel: new Float32Array(prev * 3 * size), recurrent: new Float32Array(size * 3 * size), bias: new Float32Array(3 * size) });
      prev = size;
    }
  }

  /** GRU4Rec's init: uniform ±sqrt(6 / (fan_in + fan_out)) per weight block; biases zero. */
  initialize(rng: Rng): void {
    rng.fillUniform(this.itemTable, tableLimit(this.itemCount, this.outSize));
    if (this.inputTable) rng.fillUniform(this.inputTable, tableLimit(this.itemCount, this.inSize));
    for (const l of this.layers) {
      fillGateBlocks(rng, l.kernel, l.inSize, l.size);
      fillGateBlocks(rng, l.recurrent, l.size, l.size);
    }
  }

  /** Grows the item tables to `newCount` rows: old rows kept, new rows initialised like fresh ones. */
  grow(newCount: number, rng: Rng): void {
    if (newCount <= this.itemCount) return;
    const old = this.itemCount;
    const growTable = (t: Float32Array, width: number) => {
      const n = new Float32Array(newCount * width);
      n.set(t);
      rng.fillUniform(n, tableLimit(newCount, width), old * width);
      return n;
    };
    this.itemTable = growTable(this.itemTable, this.outSize);
    if (this.inputTable) this.inputTable = growTable(this.inputTable, this.inSize);
    const b = new Float32Array(newCount);
    b.set(this.outputBias);
    // New items start at the lowest existing bias so they do not jump the popularity order before training.
    let min = 0;
    for (let i = 0; i < old; i++) min = Math.min(min, this.outputBias[i]!);
    b.fill(min, old);
    this.outputBias = b;
    this.itemCount = newCount;
  }

  /** Named weights with shapes, for saving. */
  named(): { name: string; shape: number[]; values: Float32Array }[] {
    const out = [
      { name: 'item_table', shape: [this.itemCount, this.outSize], values: this.itemTable },
      { name: 'output_bias', shape: [this.itemCount], values: this.outputBias },
    ];
    if (this.inputTable) out.push({ name: 'input_table', shape: [this.itemCount, this.inSize], values: this.inputTable });
    this.layers.forEach((l, i) => {
      out.push({ name: `gru_${i}/kernel`, shape: [l.inSize, 3 * l.size], values: l.kernel });
      out.push({ name: `gru_${i}/recurrent_kernel`, shape: [l.size, 3 * l.size], values: l.recurrent });
      out.push({ name: `gru_${i}/bias`, shape: [3 * l.size], values: l.bias });
    });
    if (this.repeatBias) out.push({ name: 'repeat_bias', shape: [this.repeatBias.length], values: this.repeatBias });
    return out;
  }

  /** Builds params from loaded weights, checking every shape against the config. */
  static fromNamed(config: Gru4RecConfig, itemCount: number, weights: Map<string, { shape: number[]; values: Float32Array }>): Gru4RecParams {
    const p = new Gru4RecParams(config, itemCount);
    copyNamedWeights(p.named(), weights);
    return p;
  }
}

function tableLimit(rows: number, cols: number): number {
  return Math.sqrt(6 / (rows + cols));
}

function fillGateBlocks(rng: Rng, w: Float32Array, rows: number, size: number): void {
  const limit = Math.sqrt(6 / (rows + size));
  // Each gate block is its own [rows, size] matrix; the layout interleaves them per row.
  for (let r = 0; r < rows; r++) rng.fillUniform(w, limit, r * 3 * size, (r + 1) * 3 * size);
}
