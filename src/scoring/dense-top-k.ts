import type { Recommendation } from './scorer.js';
import type { ItemFilter } from './top-k.js';

/**
 * A bounded min-heap of the best `k` (item, score) pairs with the same order as {@link topK}: higher score
 * first, ties broken by lower index. Reusable: `reset` keeps the buffers.
 */
export class TopKHeap {
  readonly k: number;
  private readonly idx: Int32Array;
  private readonly val: Float32Array;
  private size = 0;

  constructor(k: number) {
    this.k = k;
    this.idx = new Int32Array(k);
    this.val = new Float32Array(k);
  }

  reset(): void {
    this.size = 0;
  }

  get count(): number {
    return this.size;
  }

  /** Score an item must beat to enter (with a lower index on a tie); -Infinity until full. */
  get threshold(): number {
    return this.size < this.k ? -Infinity : this.val[0]!;
  }

  /** Offers one item; NaN and -Infinity never enter. */
  push(item: number, score: number): void {
    if (!(score > -Infinity) || this.k === 0) return;
    const idx = this.idx, val = this.val;
    if (this.size < this.k) {
      let i = this.size++;
      idx[i] = item; val[i] = score;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(idx[i]!, val[i]!, idx[p]!, val[p]!)) break;
        swap(idx, val, i, p);
        i = p;
      }
      return;
    }
    if (!worse(idx[0]!, val[0]!, item, score)) return;
    idx[0] = item; val[0] = score;
    for (let i = 0; ;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < this.size && worse(idx[l]!, val[l]!, idx[m]!, val[m]!)) m = l;
      if (r < this.size && worse(idx[r]!, val[r]!, idx[m]!, val[m]!)) m = r;
      if (m === i) break;
      swap(idx, val, i, m);
      i = m;
    }
  }

  /** The kept items, best first. */
  result(): Recommendation {
    const order = Array.from({ length: this.size }, (_, i) => i).sort((a, b) => this.val[b]! - this.val[a]! || this.idx[a]! - this.idx[b]!);
    return { items: Int32Array.from(order, (i) => this.idx[i]!), scores: Float32Array.from(order, (i) => this.val[i]!) };
  }
}

// "Worse" = lower score, or equal score with a higher index.
function worse(ia: number, va: number, ib: number, vb: number): boolean {
  return va < vb || (va === vb && ia > ib);
}

function swap(idx: Int32Array, val: Float32Array, a: number, b: number): void {
  const ti = idx[a]!, tv = val[a]!;
  idx[a] = idx[b]!; val[a] = val[b]!;
  idx[b] = ti; val[b] = tv;
}

/** A filter resolved for repeated membership tests. */
export interface ResolvedFilter {
  readonly exclude: ReadonlySet<number> | undefined;
  readonly allow: ReadonlySet<number> | undefined;
}

export function resolveFilter(filter: ItemFilter | undefined): ResolvedFilter {
  const ex = filter?.exclude;
  return { exclude: ex === undefined ? undefined : ex instanceof Set ? (ex as Set<number>) : new Set(ex), allow: filter?.allow };
}

/** True when `item` passes the filter. */
export function admits(f: ResolvedFilter, item: number): boolean {
  return !(f.exclude?.has(item) ?? false) && (f.allow === undefined || f.allow.has(item));
}

/** An item table in row-major `[itemCount, dims]` layout with an optional per-item bias. */
export interface DenseItemTable {
  readonly vectors: Float32Array;
  readonly bias?: Float32Array | undefined;
  readonly itemCount: number;
  readonly dims: number;
}

/** Exact score of one item for the query at `hidden[offset .. offset + dims)`. */
export function scoreItem(table: DenseItemTable, hidden: Float32Array, offset: number, item: number): number {
  const v = table.vectors, d = table.dims, base = item * d;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t = 0;
  for (; t + 3 < d; t += 4) {
    s0 += hidden[offset + t]! * v[base + t]!;
    s1 += hidden[offset + t + 1]! * v[base + t + 1]!;
    s2 += hidden[offset + t + 2]! * v[base + t + 2]!;
    s3 += hidden[offset + t + 3]! * v[base + t + 3]!;
  }
  for (; t < d; t++) s0 += hidden[offset + t]! * v[base + t]!;
  return s0 + s1 + s2 + s3 + (table.bias ? table.bias[item]! : 0);
}

/**
 * Exact top-k of `candidates` for one query: re-scores each candidate against the table (so ANN distances,
 * which may be approximate or transformed, never leak into the result), plus its `extra` score if it has one
 * (a model's sparse score additions). Duplicates are ignored.
 */
export function topKOfCandidates(table: DenseItemTable, hidden: Float32Array, offset: number, candidates: ArrayLike<number>, k: number, filter: ResolvedFilter, heap: TopKHeap = new TopKHeap(k), extra?: ReadonlyMap<number, number>): Recommendation {
  heap.reset();
  const seen = new Set<number>();
  for (let i = 0; i < candidates.length; i++) {
    const item = candidates[i]!;
    if (item < 0 || item >= table.itemCount || seen.has(item) || !admits(filter, item)) continue;
    seen.add(item);
    heap.push(item, scoreItem(table, hidden, offset, item) + (extra?.get(item) ?? 0));
  }
  return heap.result();
}

/**
 * Exact top-k for `batch` queries over every item in one pass of plain TypedArray loops: each item row is
 * loaded once and scored against all queries, and a score enters a query's heap only if it beats that
 * heap's threshold (score and selection fused; no `batch × itemCount` score matrix is materialised).
 */
export function exactTopKLoop(table: DenseItemTable, hidden: Float32Array, batch: number, k: number, filters: readonly ResolvedFilter[]): Recommendation[] {
  const d = table.dims, n = table.itemCount;
  const heaps = Array.from({ length: batch }, () => new TopKHeap(k));
  const thresholds = new Float64Array(batch).fill(-Infinity);
  const anyFilter = filters.some((f) => f.exclude !== undefined || f.allow !== undefined);
  for (let j = 0; j < n; j++) {
    for (let b = 0; b < batch; b++) {
      const s = scoreItem(table, hidden, b * d, j);
      // Items arrive in index order, so a score equal to the threshold loses the tie.
      if (!(s > thresholds[b]!)) continue;
      if (anyFilter && !admits(filters[b]!, j)) continue;
      const h = heaps[b]!;
      h.push(j, s);
      thresholds[b] = h.threshold;
    }
  }
  return heaps.map((h) => h.result());
}
