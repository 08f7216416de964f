import { describe, expect, it } from 'vitest';
import { MetricAccumulator, popularityPercentiles } from '../../../src/eval/metrics.js';

describe('MetricAccumulator', () => {
  it('computes HR, MRR and NDCG by hand on four predictions', () => {
    const acc = new MetricAccumulator([1, 5, 20], 10);
    for (const r of [1, 3, 25, Infinity]) acc.add(r);
    const { cutoffs } = acc.result();
    const at = (k: number) => cutoffs.find((c) => c.k === k)!;
    expect(acc.predictions).toBe(4);
    expect(at(1).hitRate).toBeCloseTo(0.25, 12);
    expect(at(1).mrr).toBeCloseTo(0.25, 12);
    expect(at(1).ndcg).toBeCloseTo(0.25, 12);
    expect(at(5).hitRate).toBeCloseTo(0.5, 12);
    expect(at(5).mrr).toBeCloseTo((1 + 1 / 3) / 4, 12);
    // rank 3 → 1/log2(4) = 0.5
    expect(at(5).ndcg).toBeCloseTo((1 + 0.5) / 4, 12);
    // rank 25 is beyond 20: no credit
    expect(at(20).hitRate).toBeCloseTo(0.5, 12);
  });

  it('counts fractional ranks from the average tie policy', () => {
    const acc = new MetricAccumulator([2], 4);
    acc.add(2.5);
    acc.add(1.5);
    const c = acc.result().cutoffs[0]!;
    expect(c.hitRate).toBe(0.5);
    expect(c.mrr).toBeCloseTo(1 / 1.5 / 2, 12);
  });

  it('measures coverage per cut-off and popularity of recommended items', () => {
    const pop = [10, 5, 5, 1];
    const acc = new MetricAccumulator([1, 2], 4, pop);
    acc.addList([0, 1]);
    acc.addList([0, 3]);
    const r = acc.result();
    expect(r.cutoffs[0]!.coverage).toBe(0.25); // only item 0 at K=1
    expect(r.cutoffs[1]!.coverage).toBe(0.75); // items 0, 1, 3 at K=2
    expect(r.averagePopularity).toBeCloseTo((10 + 5 + 10 + 1) / 4, 12);
    // percentiles: item0 = 3/3, items 1,2 = 1/3, item3 = 0
    expect(r.averagePopularityPercentile).toBeCloseTo((1 + 1 / 3 + 1 + 0) / 4, 12);
  });

  it('rejects bad cut-offs', () => {
    expect(() => new MetricAccumulator([0], 3)).toThrow(/cut-offs/);
    expect(() => new MetricAccumulator([], 3)).toThrow(/cut-offs/);
  });
});

describe('popularityPercentiles', () => {
  it('gives tied items the same percentile', () => {
    expect(Array.from(popularityPercentiles([3, 1, 3, 0]))).toEqual([2 / 3, 1 / 3, 2 / 3, 0]);
  });
});
