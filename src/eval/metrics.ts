import { InvalidOptionError } from '../errors.js';

/** Default cut-offs reported. */
export const DEFAULT_CUTOFFS = [1, 5, 10, 20] as const;

/** Metrics at one cut-off K, averaged over the evaluated predictions. */
export interface CutoffMetrics {
  readonly k: number;
  /** Hit rate: share of predictions whose target ranks ≤ K. With one target per prediction this equals Recall@K and P@20 as the SR-GNN papers define it. */
  readonly hitRate: number;
  /** Mean reciprocal rank, 0 when the target ranks beyond K. */
  readonly mrr: number;
  /** NDCG with one relevant item: 1/log2(rank+1), 0 beyond K. */
  readonly ndcg: number;
  /** Share of the catalog (vocabulary) that appeared in at least one top-K list. */
  readonly coverage: number;
}

/**
 * Accumulates rank-based metrics for single-target next-item prediction. `add(rank)` takes the 1-based rank
 * of the target among all items (Infinity for "not ranked"); `addList(items)` records a recommended top list
 * for coverage and popularity bias.
 */
export class MetricAccumulator {
  readonly cutoffs: readonly number[];
  private readonly hits: Float64Array;
  private readonly rr: Float64Array;
  private readonly dcg: Float64Array;
  private readonly seen: Uint8Array[];
  private readonly seenCount: number[];
  private count = 0;
  private popSum = 0;
  private pctSum = 0;
  private popItems = 0;

  /**
   * @param itemCount catalog size for coverage.
   * @param popularity training clicks per item (dense index), for the popularity-bias measures; optional.
   */
  constructor(cutoffs: readonly number[], readonly itemCount: number, private readonly popularity?: ArrayLike<number>) {
    if (cutoffs.length === 0 || cutoffs.some((k) => !Number.isInteger(k) || k < 1)) throw new InvalidOptionError('cutoffs', `cut-offs must be integers ≥ 1, got ${cutoffs.join(',')}`);
    this.cutoffs = [...new Set(cutoffs)].sort((a, b) => a - b);
    const m = this.cutoffs.length;
    this.hits = new Float64Array(m);
    this.rr = new Float64Array(m);
    this.dcg = new Float64Array(m);
    this.seen = this.cutoffs.map(() => new Uint8Array(itemCount));
    this.seenCount = this.cutoffs.map(() => 0);
    if (popularity) this.percentile = popularityPercentiles(popularity);
  }

  /** Popularity percentile of each item in [0, 1] (share of items strictly less popular). */
  readonly percentile: Float64Array | undefined;

  /** Largest cut-off; top lists need at least this many items for coverage to be exact. */
  get maxCutoff(): number {
    return this.cutoffs[this.cutoffs.length - 1]!;
  }

  get predictions(): number {
    return this.count;
  }

  /** Records one prediction whose target has 1-based rank `rank` (fractional under the average tie policy). */
  add(rank: number): void {
    this.count++;
    for (let c = 0; c < this.cutoffs.length; c++) {
      if (rank <= this.cutoffs[c]!) {
        this.hits[c]!++;
        this.rr[c]! += 1 / rank;
        this.dcg[c]! += 1 / Math.log2(rank + 1);
      }
    }
  }

  /** Records a recommended list (dense indices, best first). Popularity bias uses its first `maxCutoff` items. */
  addList(items: ArrayLike<number>): void {
    for (let c = 0; c < this.cutoffs.length; c++) {
      const seen = this.seen[c]!;
      const m = Math.min(items.length, this.cutoffs[c]!);
      for (let q = 0; q < m; q++) {
        const i = items[q]!;
        if (seen[i] === 0) { seen[i] = 1; this.seenCount[c]!++; }
      }
    }
    if (this.popularity && this.percentile) {
      const m = Math.min(items.length, this.maxCutoff);
      for (let q = 0; q < m; q++) {
        this.popSum += this.popularity[items[q]!]!;
        this.pctSum += this.percentile[items[q]!]!;
      }
      this.popItems += m;
    }
  }

  result(): { cutoffs: CutoffMetrics[]; averagePopularity?: number; averagePopularityPercentile?: number } {
    const n = this.count || 1;
    const cutoffs = this.cutoffs.map((k, c) => ({
      k,
      hitRate: this.hits[c]! / n,
      mrr: this.rr[c]! / n,
      ndcg: this.dcg[c]! / n,
      coverage: this.itemCount > 0 ? this.seenCount[c]! / this.itemCount : 0,
    }));
    if (!this.popularity || this.popItems === 0) return { cutoffs };
    return { cutoffs, averagePopularity: this.popSum / this.popItems, averagePopularityPercentile: this.pctSum / this.popItems };
  }
}

/** Percentile of each item's count among all items: share of items with a strictly lower count. */
export function popularityPercentiles(counts: ArrayLike<number>): Float64Array {
  const n = counts.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => counts[a]! - counts[b]!);
  const out = new Float64Array(n);
  let q = 0;
  while (q < n) {
    let r = q;
    while (r + 1 < n && counts[order[r + 1]!] === counts[order[q]!]) r++;
    for (let t = q; t <= r; t++) out[order[t]!] = n > 1 ? q / (n - 1) : 0;
    q = r + 1;
  }
  return out;
}
