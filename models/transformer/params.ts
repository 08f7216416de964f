import { ModelFormatError } from '../../src/errors.js';
import { copyNamedWeights } from '../training/named-weights.js';
import { Rng } from '../training/rng.js';
import { resolveTransformerConfig, type TransformerConfig } from './config.js';
import type { TransitionGraph } from './transitions.js';

/** A named weight array with its shape (the TF.js weight name it is saved under). */
export interface NamedWeight {
  readonly name: string;
  readonly shape: number[];
  values: Float32Array;
}

/** Per-block dense weight names, in a fixed order (`block_{i}/{name}`). */
export const BLOCK_WEIGHTS = ['ln1_gamma', 'ln1_beta', 'wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wo', 'bo', 'ln2_gamma', 'ln2_beta', 'w1', 'b1', 'w2', 'b2'] as const;
export type BlockWeightName = (typeof BLOCK_WEIGHTS)[number];

/**
 * All transformer weights as Float32Arrays on the host. Training updates the item table and output bias
 * row-wise (sparse) and uploads the small dense weights (positions, time gaps, blocks, final layer norm,
 * readout, scoring terms) to TF.js each step; host memory lets Hogwild workers share them.
 */
export class TransformerParams {
  /** Item embedding `[itemCount, d]`: the input rows and the output (scoring) table (tied, as SASRec and GRU4Rec). */
  itemTable: Float32Array;
  /** Output bias `[itemCount]`. */
  outputBias: Float32Array;
  /** Dense weights: positions, time gaps, blocks, final layer norm. */
  readonly dense: NamedWeight[];
  /** The training sessions' transition counts (config `transitionPrior`; set by training or loading). */
  transitions: TransitionGraph | undefined;
  private readonly byName = new Map<string, NamedWeight>();

  /**
   * `allocate` makes every weight array, in a fixed order (parallel training passes one that hands out
   * shared memory, so worker threads update the same weights).
   */
  constructor(readonly config: TransformerConfig, public itemCount: number, allocate: (length: number) => Float32Array = (n) => new Float32Array(n)) {
    const d = config.hiddenSize, f = config.feedForwardSize;
    this.itemTable = allocate(itemCount * d);
    this.outputBias = allocate(itemCount);
    this.dense = [{ name: 'position_table', shape: [config.maxLength, d], values: allocate(config.maxLength * d) }];
    if (config.timeBuckets > 0) this.dense.push({ name: 'time_table', shape: [config.timeBuckets, d], values: allocate(config.timeBuckets * d) });
    const shapes: Record<BlockWeightName, number[]> = {
      ln1_gamma: [d], ln1_beta: [d], wq: [d, d], bq: [d], wk: [d, d], bk: [d], wv: [d, d], bv: [d], wo: [d, d], bo: [d],
      ln2_gamma: [d], ln2_beta: [d], w1: [d, f], b1: [f], w2: [f, d], b2: [d],
    };
    for (let b = 0; b < config.blocks; b++) {
      for (const n of BLOCK_WEIGHTS) this.dense.push({ name: `block_${b}/${n}`, shape: shapes[n], values: allocate(size(shapes[n])) });
    }
    this.dense.push({ name: 'final_ln_gamma', shape: [d], values: allocate(d) }, { name: 'final_ln_beta', shape: [d], values: allocate(d) });
    // Item-attention readout scores v·h (zero at start: the session vector begins as the mean of its items).
    if (config.readout !== 'last') this.dense.push({ name: 'readout_v', shape: [d], values: allocate(d) });
    if (config.repeatBias) this.dense.push({ name: 'repeat_bias', shape: [config.maxLength], values: allocate(config.maxLength) });
    if (config.transitionPrior) this.dense.push({ name: 'transition_weight', shape: [config.maxLength], values: allocate(config.maxLength) });
    for (const w of this.dense) this.byName.set(w.name, w);
  }

  /** A freshly initialised model for `itemCount` items from a (partial) config; seeded by `config.seed`. */
  static fromConfig(config: Partial<TransformerConfig>, itemCount: number): TransformerParams {
    const c = resolveTransformerConfig(config);
    const p = new TransformerParams(c, itemCount);
    p.initialize(new Rng(c.seed));
    return p;
  }

  /** The typed, complete config (a copy; what model.json stores). */
  getConfig(): TransformerConfig {
    return { ...this.config };
  }

  get hiddenSize(): number {
    return this.config.hiddenSize;
  }

  /** A dense weight by name. */
  get(name: string): Float32Array {
    const w = this.byName.get(name);
    if (!w) throw new ModelFormatError(`no transformer weight "${name}"`);
    return w.values;
  }

  block(b: number, name: BlockWeightName): Float32Array {
    return this.get(`block_${b}/${name}`);
  }

  /** Per-distance score of items already in the window, when the config has it. */
  repeatBias(): Float32Array | undefined {
    return this.config.repeatBias ? this.get('repeat_bias') : undefined;
  }

  /**
   * The transition prior's per-position weights and graph, when the config has the prior and a graph is set
   * (a freshly initialised model has none until training builds it).
   */
  transitionPrior(): { weight: Float32Array; graph: TransitionGraph } | undefined {
    return this.config.transitionPrior && this.transitions ? { weight: this.get('transition_weight'), graph: this.transitions } : undefined;
  }

  /** Xavier-uniform matrices, unit layer-norm gains, zero biases and readout; embeddings uniform ±1/sqrt(d). */
  initialize(rng: Rng): void {
    const d = this.config.hiddenSize;
    const emb = 1 / Math.sqrt(d);
    rng.fillUniform(this.itemTable, emb);
    for (const w of this.dense) {
      const leaf = w.name.slice(w.name.lastIndexOf('/') + 1);
      if (w.name === 'position_table' || w.name === 'time_table') rng.fillUniform(w.values, emb);
      else if (w.name.startsWith('readout_')) w.values.fill(0); // starts as the plain item mean
      else if (leaf.endsWith('gamma')) w.values.fill(1);
      else if (w.shape.length === 2) rng.fillUniform(w.values, Math.sqrt(6 / (w.shape[0]! + w.shape[1]!)));
      else w.values.fill(0);
    }
  }

  /** Named weights with shapes, for saving (and for checkpoints: `values` are the live arrays). */
  named(): NamedWeight[] {
    const d = this.config.hiddenSize;
    return [
      { name: 'item_table', shape: [this.itemCount, d], values: this.itemTable },
      { name: 'output_bias', shape: [this.itemCount], values: this.outputBias },
      ...this.dense,
    ];
  }

  /** Builds params from loaded weights, checking every shape against the config. */
  static fromNamed(config: TransformerConfig, itemCount: number, weights: Map<string, { shape: number[]; values: Float32Array }>): TransformerParams {
    const p = new TransformerParams(config, itemCount);
    copyNamedWeights(p.named(), weights);
    return p;
  }
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
