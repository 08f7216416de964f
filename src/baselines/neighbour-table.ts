import { ModelFormatError } from '../errors.js';
import type { StoredArray } from './array-file.js';

/**
 * Sparse item → item weights in CSR form: the neighbours of item `i` are `items[start[i] .. start[i+1])` with
 * `weights` at the same positions, best first. Used by ItemKNN (similarities) and Sequential Rules (rules).
 */
export class NeighbourTable {
  constructor(readonly start: Int32Array, readonly items: Int32Array, readonly weights: Float32Array) {}

  /** Builds from per-item lists (already sorted best first). */
  static fromLists(idx: number[][], val: number[][]): NeighbourTable {
    const n = idx.length;
    const start = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) start[i + 1] = start[i]! + idx[i]!.length;
    const items = new Int32Array(start[n]!);
    const weights = new Float32Array(start[n]!);
    for (let i = 0; i < n; i++) {
      items.set(idx[i]!, start[i]!);
      weights.set(val[i]!, start[i]!);
    }
    return new NeighbourTable(start, items, weights);
  }

  static fromArrays(arrays: Record<string, StoredArray>, itemCount: number, where: string): NeighbourTable {
    const start = arrays['start'] as Int32Array;
    const items = arrays['neighbours'] as Int32Array;
    const weights = arrays['weights'] as Float32Array;
    if (start.length !== itemCount + 1 || items.length !== weights.length || start[itemCount] !== items.length) {
      throw new ModelFormatError(`${where}: neighbour table shapes do not match ${itemCount} items; re-train the model`);
    }
    for (let i = 0; i < items.length; i++) {
      const j = items[i]!;
      if (j < 0 || j >= itemCount) throw new ModelFormatError(`${where}: neighbour index ${j} out of range; re-train the model`);
    }
    return new NeighbourTable(start, items, weights);
  }

  toArrays(): Record<string, StoredArray> {
    return { start: this.start, neighbours: this.items, weights: this.weights };
  }

  /** Number of stored (item, neighbour) pairs. */
  get size(): number {
    return this.items.length;
  }

  /** Writes `scale × weight` of each neighbour of `item` into `out` at `offset`. */
  writeRow(item: number, scale: number, out: Float32Array, offset: number): void {
    const end = this.start[item + 1]!;
    for (let p = this.start[item]!; p < end; p++) out[offset + this.items[p]!] = scale * this.weights[p]!;
  }
}
