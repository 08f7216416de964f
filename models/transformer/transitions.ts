import { ModelFormatError } from '../../src/errors.js';
import type { SessionArrays } from '../training/session-batcher.js';
import type { NamedWeight } from './params.js';

/** Weight names of the graph inside a model directory (saved beside the trained weights). */
const GRAPH_WEIGHTS = ['transition_graph/offsets', 'transition_graph/targets', 'transition_graph/counts'] as const;
/** Largest integer a float32 holds exactly: indices and counts are saved as float32 weights. */
const FLOAT32_EXACT = 2 ** 24;

/**
 * Directed item-to-item transitions of the training sessions: how often item b was clicked right after item a
 * (a ≠ b), as a compressed sparse row table. It is the transformer's global view of the catalogue (in the
 * spirit of GCE-GNN's global graph): for a session of one item the item-attention readout can only score the
 * symmetric similarity cos(e_a, e_b), while the counts say which way round the clicks went.
 */
export class TransitionGraph {
  constructor(
    readonly itemCount: number,
    /** Row a's entries are `offsets[a] .. offsets[a + 1] − 1`. */
    readonly offsets: Int32Array,
    /** Next item of each entry, ascending within a row. */
    readonly targets: Int32Array,
    /** Number of a → b transitions of each entry. */
    readonly counts: Float32Array,
  ) {
    if (offsets.length !== itemCount + 1 || targets.length !== counts.length || offsets[itemCount] !== targets.length) {
      throw new ModelFormatError(`transition graph arrays do not fit ${itemCount} items (${offsets.length} offsets, ${targets.length} targets, ${counts.length} counts)`);
    }
  }

  /** Counts every adjacent pair (a, b), a ≠ b, of every session. */
  static fromSessions(data: SessionArrays, itemCount: number): TransitionGraph {
    const keys: number[] = [];
    for (let s = 0; s + 1 < data.offsets.length; s++) {
      for (let k = data.offsets[s]!; k + 1 < data.offsets[s + 1]!; k++) {
        const a = data.items[k]!, b = data.items[k + 1]!;
        if (a !== b) keys.push(a * itemCount + b);
      }
    }
    const sorted = Float64Array.from(keys).sort();
    const offsets = new Int32Array(itemCount + 1);
    const targets: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < sorted.length; ) {
      let j = i;
      while (j < sorted.length && sorted[j] === sorted[i]) j++;
      const a = Math.floor(sorted[i]! / itemCount);
      offsets[a + 1]!++;
      targets.push(sorted[i]! - a * itemCount);
      counts.push(j - i);
      i = j;
    }
    for (let a = 0; a < itemCount; a++) offsets[a + 1] = offsets[a + 1]! + offsets[a]!;
    return new TransitionGraph(itemCount, offsets, Int32Array.from(targets), Float32Array.from(counts));
  }

  /** Number of stored (a, b) pairs. */
  get size(): number {
    return this.targets.length;
  }

  /** The graph as float32 weights (exact: every index and count is below 2^24, checked). */
  named(): NamedWeight[] {
    if (this.itemCount >= FLOAT32_EXACT || this.size >= FLOAT32_EXACT) {
      throw new ModelFormatError(`a transition graph of ${this.itemCount} items and ${this.size} pairs is too large to save (the limit is 2^24 of each); train without transitionPrior`);
    }
    return [
      { name: GRAPH_WEIGHTS[0], shape: [this.offsets.length], values: Float32Array.from(this.offsets) },
      { name: GRAPH_WEIGHTS[1], shape: [this.size], values: Float32Array.from(this.targets) },
      { name: GRAPH_WEIGHTS[2], shape: [this.size], values: this.counts.slice() },
    ];
  }

  /** True for the weight names {@link named} writes. */
  static isGraphWeight(name: string): boolean {
    return (GRAPH_WEIGHTS as readonly string[]).includes(name);
  }

  /** Reads the graph back from loaded weights; throws when they are missing or do not fit. */
  static fromNamed(weights: ReadonlyMap<string, { values: Float32Array }>, itemCount: number): TransitionGraph {
    const [o, t, c] = GRAPH_WEIGHTS.map((n) => weights.get(n)?.values);
    if (!o || !t || !c) throw new ModelFormatError('the model was trained with transitionPrior but its directory has no transition graph weights; re-save or retrain it');
    return new TransitionGraph(itemCount, Int32Array.from(o), Int32Array.from(t), c.slice());
  }
}

/** The prior's feature of a transition seen `count` times: log(1 + count), so the first sightings weigh most. */
export function transitionFeature(count: number): number {
  return Math.log1p(count);
}
