import { MetricAccumulator, type CutoffMetrics } from './metrics.js';

/** Rank metrics of one group of predictions (a prefix-length bucket, repeat or new targets). */
export interface GroupMetrics {
  /** What the group is, e.g. `1`, `6–10`, `repeat`. */
  readonly label: string;
  readonly predictions: number;
  /** HR/MRR/NDCG per cut-off (coverage is a whole-run measure and is not split by group). */
  readonly cutoffs: Omit<CutoffMetrics, 'coverage'>[];
}

/** Prefix-length buckets of {@link PredictionRecorder}: events of the session so far, including the current one. */
export const PREFIX_BUCKETS: readonly { readonly label: string; readonly max: number }[] = [
  { label: '1', max: 1 }, { label: '2', max: 2 }, { label: '3', max: 3 }, { label: '4', max: 4 }, { label: '5', max: 5 },
  { label: '6–10', max: 10 }, { label: '11–20', max: 20 }, { label: '21+', max: Number.POSITIVE_INFINITY },
];

function bucketOf(prefixLength: number): number {
  let b = 0;
  while (prefixLength > PREFIX_BUCKETS[b]!.max) b++;
  return b;
}

function groupResult(label: string, acc: MetricAccumulator): GroupMetrics {
  return { label, predictions: acc.predictions, cutoffs: acc.result().cutoffs.map(({ k, hitRate, mrr, ndcg }) => ({ k, hitRate, mrr, ndcg })) };
}

/**
 * Everything the evaluators record per prediction, in one place: the overall metrics (with coverage and
 * popularity bias), the split by prefix length, and the split into repeat targets (the next item is already in
 * the session) and new ones. Replay and serving evaluation both feed it, so their reports line up.
 */
export class PredictionRecorder {
  readonly overall: MetricAccumulator;
  private readonly byPrefix: MetricAccumulator[];
  private readonly repeat: MetricAccumulator;
  private readonly fresh: MetricAccumulator;

  constructor(cutoffs: readonly number[], itemCount: number, popularity?: ArrayLike<number>) {
    this.overall = new MetricAccumulator(cutoffs, itemCount, popularity);
    this.byPrefix = PREFIX_BUCKETS.map(() => new MetricAccumulator(cutoffs, 0));
    this.repeat = new MetricAccumulator(cutoffs, 0);
    this.fresh = new MetricAccumulator(cutoffs, 0);
  }

  /**
   * One prediction: the target's 1-based rank (Infinity when not ranked), the session's events so far
   * (including the current one), and whether the target already occurred in the session.
   */
  add(rank: number, prefixLength: number, isRepeat: boolean): void {
    this.overall.add(rank);
    this.byPrefix[bucketOf(prefixLength)]!.add(rank);
    (isRepeat ? this.repeat : this.fresh).add(rank);
  }

  /** A recommended list (dense indices, best first), for coverage and popularity. */
  addList(items: ArrayLike<number>): void {
    this.overall.addList(items);
  }

  get maxCutoff(): number {
    return this.overall.maxCutoff;
  }

  get predictions(): number {
    return this.overall.predictions;
  }

  /** Share of predictions whose target was already in the session (0 when there are none). */
  get repeatShare(): number {
    const n = this.overall.predictions;
    return n > 0 ? this.repeat.predictions / n : 0;
  }

  /** Prefix-length buckets with at least one prediction. */
  prefixLengths(): GroupMetrics[] {
    return this.byPrefix.map((acc, b) => groupResult(PREFIX_BUCKETS[b]!.label, acc)).filter((g) => g.predictions > 0);
  }

  /** Repeat targets and new targets (groups without predictions left out). */
  repeatSplit(): GroupMetrics[] {
    return [groupResult('repeat', this.repeat), groupResult('new', this.fresh)].filter((g) => g.predictions > 0);
  }
}
