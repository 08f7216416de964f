import { describe, expect, it } from 'vitest';
import { normalizeRows, normalizeRowsBackward } from '../../../models/transformer/cosine.js';
import { Rng } from '../../../models/training/rng.js';

describe('cosine row normalisation', () => {
  it('scales rows to unit length (times scale) and keeps zero rows at zero', () => {
    const a = Float32Array.from([3, 4, 0, 0, 1, 0]);
    const { normalized, norms } = normalizeRows(a, 3, 2, 2);
    expect(Array.from(normalized)).toEqual([1.2, 1.6, 0, 0, 2, 0].map((x) => Math.fround(x)));
    expect(norms[0]).toBeCloseTo(5, 6);
    expect(normalized.every(Number.isFinite)).toBe(true);
  });

  it('backward matches finite differences of a weighted sum of the normalised rows', () => {
    const rng = new Rng(7);
    const rows = 3, d = 5;
    const x = Float64Array.from({ length: rows * d }, () => rng.next() * 2 - 1);
    const w = Float32Array.from({ length: rows * d }, () => rng.next() * 2 - 1);
    const f = (v: Float64Array) => {
      let s = 0;
      for (let r = 0; r < rows; r++) {
        let n = 0;
        for (let i = 0; i < d; i++) n += v[r * d + i]! ** 2;
        n = Math.sqrt(n);
        for (let i = 0; i < d; i++) s += (w[r * d + i]! * v[r * d + i]!) / n;
      }
      return s;
    };
    const { normalized, norms } = normalizeRows(Float32Array.from(x), rows, d);
    const g = w.slice();
    normalizeRowsBackward(g, normalized, norms, rows, d);
    const eps = 1e-6;
    for (let k = 0; k < rows * d; k++) {
      const up = x.slice(); up[k] = up[k]! + eps;
      const dn = x.slice(); dn[k] = dn[k]! - eps;
      expect(g[k]).toBeCloseTo((f(up) - f(dn)) / (2 * eps), 4);
    }
  });
});
