/**
 * L2 row normalisation for cosine scoring (config `cosineTemperature`), forward and backward. A zero row
 * stays zero (its norm is floored) instead of producing NaNs.
 */
const MIN_NORM = 1e-8;

/** Returns the rows of `a` (`[rows, d]`) scaled to unit length, and each row's norm. */
export function normalizeRows(a: Float32Array, rows: number, d: number, scale = 1): { normalized: Float32Array; norms: Float32Array } {
  const normalized = new Float32Array(rows * d);
  const norms = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let ss = 0;
    for (let i = 0; i < d; i++) ss += a[o + i]! * a[o + i]!;
    const n = Math.max(MIN_NORM, Math.sqrt(ss));
    norms[r] = n;
    const f = scale / n;
    for (let i = 0; i < d; i++) normalized[o + i] = a[o + i]! * f;
  }
  return { normalized, norms };
}

/**
 * In place: turns `g` = dL/d(normalised rows) into dL/d(rows) for y = x/|x|, i.e. (g − y·(y·g)) / |x|.
 * `normalized` must be the unit rows (scale 1).
 */
export function normalizeRowsBackward(g: Float32Array, normalized: Float32Array, norms: Float32Array, rows: number, d: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let dot = 0;
    for (let i = 0; i < d; i++) dot += normalized[o + i]! * g[o + i]!;
    const inv = 1 / norms[r]!;
    for (let i = 0; i < d; i++) g[o + i] = (g[o + i]! - normalized[o + i]! * dot) * inv;
  }
}
