// The synthetic item table of the serving benchmarks, shaped like a trained one: 1,000 cluster centres with
// per-item noise and a popularity-like bias, and queries near items (a session's hidden state points at what
// it clicks next). Shared by bench/inference.mjs and bench/pool.mjs so their ANN numbers are comparable.
import { Rng } from '../dist/models/training/rng.js';

export function makeTable(n, d, seed) {
  const rng = new Rng(seed);
  const g = () => { let s = 0; for (let i = 0; i < 4; i++) s += rng.next(); return (s - 2) * 1.7; };
  const C = 1000;
  const centres = Float32Array.from({ length: C * d }, () => g() * 0.15);
  const vectors = new Float32Array(n * d);
  const bias = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(C);
    for (let t = 0; t < d; t++) vectors[i * d + t] = centres[c * d + t] + 0.07 * g();
    bias[i] = -0.5 * Math.log1p(i / 100) * 0.1;
  }
  return { vectors, bias, itemCount: n, dims: d };
}

export function makeQueries(table, q, seed) {
  const rng = new Rng(seed);
  const d = table.dims;
  const out = new Float32Array(q * d);
  for (let b = 0; b < q; b++) {
    const i = rng.int(table.itemCount);
    for (let t = 0; t < d; t++) out[b * d + t] = Math.tanh(3 * table.vectors[i * d + t] + 0.3 * (rng.next() - 0.5));
  }
  return out;
}
