import { describe, expect, it } from 'vitest';
import { readoutBackward, readoutForward, sessionMapBackward, sessionMapForward, type ReadoutQuery } from '../../../models/transformer/readout.js';
import { Rng } from '../../../models/training/rng.js';

describe('item-attention readout', () => {
  const B = 2, T = 4, d = 3;
  const lengths = [4, 2];
  const rng = new Rng(11);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
  const h = rand(B * T * d), x = rand(B * T * d), v = rand(d), g = rand(B * T * d);
  // Padded rows carry no gradient.
  for (let t = lengths[1]!; t < T; t++) g.fill(0, (T + t) * d, (T + t + 1) * d);
  /** Σ g·s for the readout's output with the given extras. */
  const loss = (query?: ReadoutQuery, residual?: Float32Array) => {
    const { s } = readoutForward(h, x, v, lengths, T, d, query, residual);
    let l = 0;
    for (let i = 0; i < s.length; i++) l += g[i]! * s[i]!;
    return l;
  };
  /** Central differences of `f` in every element of each array against the analytic gradient. */
  const checkGradients = (pairs: readonly (readonly [Float32Array, Float32Array])[], f: () => number) => {
    const eps = 1e-3;
    for (const [arr, grad] of pairs) {
      for (let k = 0; k < arr.length; k++) {
        const keep = arr[k]!;
        arr[k] = keep + eps; const up = f();
        arr[k] = keep - eps; const dn = f();
        arr[k] = keep;
        expect(grad[k]).toBeCloseTo((up - dn) / (2 * eps), 3);
      }
    }
  };

  it('is a causal weighted mean: the first position is its own item, weights sum to one', () => {
    const { s, cache } = readoutForward(h, x, v, lengths, T, d);
    expect(Array.from(s.subarray(0, d))).toEqual(Array.from(x.subarray(0, d)));
    for (let t = 0; t < T; t++) {
      let sum = 0;
      for (let j = 0; j <= t; j++) sum += cache.alpha[t * T + j]!;
      expect(sum).toBeCloseTo(1, 6);
    }
    // Past a window's length the output stays zero.
    expect(Array.from(s.subarray((T + 2) * d, 2 * T * d)).every((z) => z === 0)).toBe(true);
  });

  it('backward matches finite differences for h, x and v', () => {
    const { s, cache } = readoutForward(h, x, v, lengths, T, d);
    const dv = new Float32Array(d);
    const { dh, dx } = readoutBackward(g, h, x, s, v, dv, cache, lengths, T, d);
    checkGradients([[h, dh], [x, dx], [v, dv]], () => loss());
  });

  it('query-attention with the residual map: backward matches finite differences for h, x, v, W, the distance bias and R', () => {
    const query: ReadoutQuery = { w: rand(d * d), r: rand(T) };
    const residual = rand(d * d);
    const { s, cache } = readoutForward(h, x, v, lengths, T, d, query, residual);
    const dv = new Float32Array(d);
    const qg = { w: new Float32Array(d * d), r: new Float32Array(T) };
    const dR = new Float32Array(d * d);
    const { dh, dx } = readoutBackward(g, h, x, s, v, dv, cache, lengths, T, d, query, qg, { m: residual, grad: dR });
    checkGradients([[h, dh], [x, dx], [v, dv], [query.w, qg.w], [query.r, qg.r], [residual, dR]], () => loss(query, residual));
    // The weights now depend on the newest position: window 0's item 0 weighs differently at t = 2 and t = 3
    // relative to item 1, which plain item-attention cannot do.
    const ratio = (t: number) => cache.alpha[t * T]! / cache.alpha[t * T + 1]!;
    expect(Math.abs(ratio(2) - ratio(3))).toBeGreaterThan(1e-3);
    const plain = readoutForward(h, x, v, lengths, T, d).cache;
    expect(plain.alpha[2 * T]! / plain.alpha[2 * T + 1]!).toBeCloseTo(plain.alpha[3 * T]! / plain.alpha[3 * T + 1]!, 5);
  });

  it('session map: s + s·A is directed, and its backward matches finite differences for s and A', () => {
    const rows = 3;
    const sIn = rand(rows * d), a = rand(d * d), gm = rand(rows * d);
    const f = () => { const out = sessionMapForward(sIn, rows, a, d); let l = 0; for (let i = 0; i < out.length; i++) l += gm[i]! * out[i]!; return l; };
    const dA = new Float32Array(d * d);
    const ds = sessionMapBackward(gm, sIn, rows, a, d, dA);
    checkGradients([[sIn, ds], [a, dA]], f);
    // Bilinear score e_jᵀ(I + A)ᵀ e_i: i → j and j → i differ once A is not symmetric.
    const ei = sIn.subarray(0, d), ej = sIn.subarray(d, 2 * d);
    const score = (u: Float32Array, w: Float32Array) => { const m = sessionMapForward(u, 1, a, d); let z = 0; for (let i = 0; i < d; i++) z += m[i]! * w[i]!; return z; };
    expect(Math.abs(score(ei, ej) - score(ej, ei))).toBeGreaterThan(1e-3);
  });
});
