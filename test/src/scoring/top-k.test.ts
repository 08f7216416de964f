import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rankOf, topK } from '../../../src/scoring/top-k.js';

describe('topK', () => {
  it('returns the k best, best first, ties by lower index', () => {
    const r = topK(Float32Array.from([1, 5, 3, 5, 2]), 3);
    expect(Array.from(r.items)).toEqual([1, 3, 2]);
    expect(Array.from(r.scores)).toEqual([5, 5, 3]);
  });
  it('applies exclude and allow filters and skips NaN/-Infinity', () => {
    const s = Float32Array.from([9, 8, 7, Number.NaN, -Infinity, 1]);
    expect(Array.from(topK(s, 10, { exclude: [0] }).items)).toEqual([1, 2, 5]);
    expect(Array.from(topK(s, 2, { allow: new Set([2, 5]) }).items)).toEqual([2, 5]);
  });
  it('reads a row of a batch by offset', () => {
    const s = Float32Array.from([0, 1, 2, 9, 8, 7]);
    expect(Array.from(topK(s, 1, {}, 3, 3).items)).toEqual([0]);
  });
  it('property: equals a full sort', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 70 }), (vals, k) => {
        const s = Float32Array.from(vals);
        const expected = vals.map((v, i) => ({ v, i })).sort((a, b) => b.v - a.v || a.i - b.i).slice(0, k).map((x) => x.i);
        expect(Array.from(topK(s, k).items)).toEqual(expected);
      }),
      { seed: 1, numRuns: 300 },
    );
  });
});

describe('rankOf', () => {
  const s = Float32Array.from([0.5, 0.9, 0.5, 0.1, 0.5]);
  it('conservative ties put the target after equal items', () => {
    expect(rankOf(s, 0)).toBe(4);
    expect(rankOf(s, 1)).toBe(1);
  });
  it('optimistic and average policies', () => {
    expect(rankOf(s, 0, 'optimistic')).toBe(2);
    expect(rankOf(s, 0, 'average')).toBe(3);
  });
  it('a constant model gets the worst rank under the conservative policy', () => {
    expect(rankOf(new Float32Array(10), 3)).toBe(10);
  });
});
