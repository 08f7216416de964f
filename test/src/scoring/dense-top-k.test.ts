import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactTopKLoop, resolveFilter, scoreItem, TopKHeap, topKOfCandidates, type DenseItemTable } from '../../../src/scoring/dense-top-k.js';
import { topK } from '../../../src/scoring/top-k.js';

function table(n: number, d: number, seed: number, withBias = true, coarse = false): DenseItemTable {
  let x = seed >>> 0;
  const rnd = () => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x / 2 ** 32 - 0.5; };
  // `coarse` rounds to few values so ties are common.
  const v = Float32Array.from({ length: n * d }, () => (coarse ? Math.round(rnd() * 2) : rnd()));
  const bias = withBias ? Float32Array.from({ length: n }, () => (coarse ? 0 : rnd())) : undefined;
  return { vectors: v, bias, itemCount: n, dims: d };
}

function bruteScores(t: DenseItemTable, hidden: Float32Array, b: number): Float32Array {
  return Float32Array.from({ length: t.itemCount }, (_, j) => scoreItem(t, hidden, b * t.dims, j));
}

describe('TopKHeap', () => {
  it('keeps the same items, in the same order, as topK (ties to the lower index)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 60 }), fc.integer({ min: 0, max: 10 }), (vals, k) => {
      const row = Float32Array.from(vals);
      const heap = new TopKHeap(k);
      // Offer in a scrambled order: the result must not depend on it.
      const order = vals.map((_, i) => i).sort((a, b) => ((a * 7919) % 61) - ((b * 7919) % 61));
      for (const i of order) heap.push(i, row[i]!);
      const want = topK(row, k);
      const got = heap.result();
      expect(Array.from(got.items)).toEqual(Array.from(want.items));
      expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
    }));
  });

  it('never admits NaN or -Infinity', () => {
    const h = new TopKHeap(3);
    h.push(0, Number.NaN); h.push(1, -Infinity); h.push(2, 1);
    expect(Array.from(h.result().items)).toEqual([2]);
  });
});

describe('exactTopKLoop', () => {
  it.each([[false], [true]])('equals topK over brute-force scores for every row, with per-row filters (coarse=%s)', (coarse) => {
    const t = table(300, 7, 3, true, coarse);
    const batch = 5;
    const hidden = Float32Array.from({ length: batch * 7 }, (_, i) => (coarse ? (i % 3) - 1 : Math.sin(i)));
    const filters = [undefined, { exclude: [0, 1, 2, 50] }, { allow: new Set([5, 9, 100, 299]) }, { exclude: new Set([7]) }, {}];
    const got = exactTopKLoop(t, hidden, batch, 10, filters.map(resolveFilter));
    for (let b = 0; b < batch; b++) {
      const want = topK(bruteScores(t, hidden, b), 10, filters[b] ?? {});
      expect(Array.from(got[b]!.items)).toEqual(Array.from(want.items));
      expect(Array.from(got[b]!.scores)).toEqual(Array.from(want.scores));
    }
  });
});

describe('topKOfCandidates', () => {
  it('re-scores exactly: all items as candidates gives the exact top-k; duplicates and out-of-range ids are ignored', () => {
    const t = table(120, 5, 9);
    const hidden = Float32Array.from({ length: 5 }, (_, i) => i - 2);
    const cands = Int32Array.from([...Array.from({ length: 120 }, (_, i) => 119 - i), 3, 3, -1, 500]);
    const got = topKOfCandidates(t, hidden, 0, cands, 15, resolveFilter({ exclude: [4] }));
    const want = topK(bruteScores(t, hidden, 0), 15, { exclude: [4] });
    expect(Array.from(got.items)).toEqual(Array.from(want.items));
    expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
  });

  it('returns fewer than k when the candidates run out', () => {
    const t = table(50, 3, 1);
    const got = topKOfCandidates(t, new Float32Array([1, 1, 1]), 0, [1, 2, 3], 10, resolveFilter(undefined));
    expect(got.items.length).toBe(3);
  });
});
