/**
 * The item-attention readout (CORE's representation-consistent encoder, Hou et al. 2022): the session vector
 * at position t is a weighted sum of the session's own input item embeddings,
 * `s_t = Σ_{j≤t} α_tj · x_j` with `α_t· = softmax_{j≤t}(v · h_j)`, where h_j is the transformer's output at j.
 * The transformer decides how much each clicked item counts; the result lives in the item embedding space, so
 * scoring it against the (tied) item table compares like with like. Causal, so training covers every
 * position at once and a streaming session only appends one score per event.
 *
 * The `query-attention` variant adds two terms that depend on the newest position t, as the last-item
 * attention of NARM/SR-GNN does: `logit_tj = v·h_j + r[t−j] + (h_t W)·h_j / √d`. With causal outputs, v·h_j
 * alone cannot depend on what came after j, so it cannot even prefer recent items; r (one bias per distance)
 * and the bilinear query term can. Both start at zero, so training starts from plain item-attention.
 *
 * With a residual map R (`readoutResidual`), `s_t` also gets `h_t R`: a sum of the session's items cannot
 * express an order-only rule (the next item fixed by the order of the last two), the newest output can. R
 * starts at zero as well.
 */

/** The query-attention readout's extra weights: W `[d, d]` and the per-distance bias r `[maxLength]`. */
export interface ReadoutQuery {
  readonly w: Float32Array;
  readonly r: Float32Array;
}

export interface ReadoutCache {
  /** α `[B, T, T]` (row t holds the weights over j ≤ t). */
  readonly alpha: Float32Array;
  /** Query-attention: the queries `h_t W / √d` `[B·T, d]`. */
  readonly queries?: Float32Array;
}

/**
 * Forward over right-padded windows: `h` transformer outputs `[B·T, d]`, `x` item embeddings of the inputs
 * `[B·T, d]`, `lengths[b]` valid positions of window b. Returns `s` `[B·T, d]` (zero past each length).
 */
export function readoutForward(h: Float32Array, x: Float32Array, v: Float32Array, lengths: readonly number[], T: number, d: number, query?: ReadoutQuery, residual?: Float32Array): { s: Float32Array; cache: ReadoutCache } {
  const B = lengths.length;
  const keyLogits = new Float32Array(T);
  const logits = new Float32Array(T);
  const alpha = new Float32Array(B * T * T);
  const s = new Float32Array(B * T * d);
  const queries = query ? readoutQueries(h, query.w, lengths, T, d) : undefined;
  for (let b = 0; b < B; b++) {
    const n = lengths[b]!;
    for (let j = 0; j < n; j++) keyLogits[j] = dotAt(v, 0, h, (b * T + j) * d, d);
    for (let t = 0; t < n; t++) {
      const row = (b * T + t) * T;
      for (let j = 0; j <= t; j++) {
        logits[j] = keyLogits[j]!;
        if (query && queries) logits[j] = logits[j]! + query.r[t - j]! + dotAt(queries, (b * T + t) * d, h, (b * T + j) * d, d);
      }
      weightsInto(logits, 0, t + 1, alpha, row);
      const so = (b * T + t) * d;
      for (let j = 0; j <= t; j++) {
        const w = alpha[row + j]!, xo = (b * T + j) * d;
        for (let i = 0; i < d; i++) s[so + i] = s[so + i]! + w * x[xo + i]!;
      }
      if (residual) addRowTimes(h, so, residual, d, s, so);
    }
  }
  return { s, cache: queries ? { alpha, queries } : { alpha } };
}

/** Gradients of the query-attention weights, added into. */
export interface ReadoutQueryGrads {
  readonly w: Float32Array;
  readonly r: Float32Array;
}

/** The residual map R `[d, d]` and its gradient (added into). */
export interface ReadoutResidual {
  readonly m: Float32Array;
  readonly grad: Float32Array;
}

/**
 * Backward: given dL/ds `[B·T, d]`, returns dL/dh and dL/dx (both `[B·T, d]`) and adds dL/dv into `dv`
 * (and dL/dW, dL/dr into `queryGrads` for query-attention). With g_t = dL/ds_t and
 * dl_tj = α_tj (g_t·x_j − g_t·s_t): dx_j = Σ_{t≥j} α_tj g_t; dh_j ∋ (Σ_t dl_tj) v + Σ_t dl_tj q_t;
 * dq_t = Σ_j dl_tj h_j, which reaches W and h_t through q_t = h_t W / √d; dr[t−j] = Σ dl_tj.
 */
export function readoutBackward(ds: Float32Array, h: Float32Array, x: Float32Array, s: Float32Array, v: Float32Array, dv: Float32Array, cache: ReadoutCache, lengths: readonly number[], T: number, d: number, query?: ReadoutQuery, queryGrads?: ReadoutQueryGrads, residual?: ReadoutResidual): { dh: Float32Array; dx: Float32Array } {
  const B = lengths.length;
  const dh = new Float32Array(B * T * d);
  const dx = new Float32Array(B * T * d);
  const dq = query ? new Float32Array(B * T * d) : undefined;
  const q = cache.queries;
  const da = new Float32Array(T);
  for (let b = 0; b < B; b++) {
    const n = lengths[b]!;
    da.fill(0);
    for (let t = 0; t < n; t++) {
      const go = (b * T + t) * d, row = (b * T + t) * T;
      // s_t − h_t R is the weighted item sum the softmax weights act on.
      let gs = dotAt(ds, go, s, go, d);
      if (residual) gs -= addRowTimesBackward(h, go, residual.m, ds, go, d, 1, residual.grad, dh);
      for (let j = 0; j <= t; j++) {
        const w = cache.alpha[row + j]!, xo = (b * T + j) * d;
        let gx = 0;
        for (let i = 0; i < d; i++) { gx += ds[go + i]! * x[xo + i]!; dx[xo + i] = dx[xo + i]! + w * ds[go + i]!; }
        const dl = w * (gx - gs);
        da[j] = da[j]! + dl;
        if (dq && q && queryGrads) {
          queryGrads.r[t - j] = queryGrads.r[t - j]! + dl;
          for (let i = 0; i < d; i++) { dq[go + i] = dq[go + i]! + dl * h[xo + i]!; dh[xo + i] = dh[xo + i]! + dl * q[go + i]!; }
        }
      }
    }
    for (let j = 0; j < n; j++) {
      const o = (b * T + j) * d, g = da[j]!;
      for (let i = 0; i < d; i++) { dh[o + i] = dh[o + i]! + g * v[i]!; dv[i] = dv[i]! + g * h[o + i]!; }
    }
  }
  if (query && dq && queryGrads) {
    // q_t = h_t W / √d: dW += h_tᵀ dq_t / √d, dh_t += dq_t Wᵀ / √d.
    const scale = 1 / Math.sqrt(d);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < lengths[b]!; t++) addRowTimesBackward(h, (b * T + t) * d, query.w, dq, (b * T + t) * d, d, scale, queryGrads.w, dh);
    }
  }
  return { dh, dx };
}

/** Queries `h_t W / √d` `[B·T, d]` for the valid positions (zero elsewhere). */
export function readoutQueries(h: Float32Array, w: Float32Array, lengths: readonly number[], T: number, d: number): Float32Array {
  const q = new Float32Array(lengths.length * T * d);
  const scale = 1 / Math.sqrt(d);
  lengths.forEach((n, b) => {
    for (let t = 0; t < n; t++) addRowTimes(h, (b * T + t) * d, w, d, q, (b * T + t) * d, scale);
  });
  return q;
}

/** Softmax of `logits[from .. from+count)` into `out[at ..]`. */
export function weightsInto(logits: ArrayLike<number>, from: number, count: number, out: Float32Array, at: number): void {
  let max = -Infinity;
  for (let j = 0; j < count; j++) max = Math.max(max, logits[from + j]!);
  let sum = 0;
  for (let j = 0; j < count; j++) { const e = Math.exp(logits[from + j]! - max); out[at + j] = e; sum += e; }
  for (let j = 0; j < count; j++) out[at + j] = out[at + j]! / sum;
}

/** `out[at..at+d) += scale · h[from..from+d) · R` for R `[d, d]`. */
export function addRowTimes(h: Float32Array, from: number, r: Float32Array, d: number, out: Float32Array, at: number, scale = 1): void {
  for (let a = 0; a < d; a++) {
    const ha = h[from + a]! * scale;
    if (ha === 0) continue;
    const ra = a * d;
    for (let c = 0; c < d; c++) out[at + c] = out[at + c]! + ha * r[ra + c]!;
  }
}

/**
 * Backward of {@link addRowTimes} for the gradient g = `g[gi..gi+d)` of its output: `dR += scale · hᵀ g`,
 * `dh[hi..] += scale · R g`. Returns `h · (R g)` (= g · (h R), unscaled), which the residual needs.
 */
export function addRowTimesBackward(h: Float32Array, hi: number, r: Float32Array, g: Float32Array, gi: number, d: number, scale: number, dR: Float32Array, dh: Float32Array): number {
  let hRg = 0;
  for (let a = 0; a < d; a++) {
    const ha = h[hi + a]! * scale, ra = a * d;
    let acc = 0;
    for (let c = 0; c < d; c++) { const gc = g[gi + c]!; dR[ra + c] = dR[ra + c]! + ha * gc; acc += r[ra + c]! * gc; }
    dh[hi + a] = dh[hi + a]! + acc * scale;
    hRg += h[hi + a]! * acc;
  }
  return hRg;
}

/**
 * The session map (config `sessionMap`): `s + s·A` for each of `rows` vectors `[rows, d]`, as a new array.
 */
export function sessionMapForward(s: Float32Array, rows: number, a: Float32Array, d: number): Float32Array {
  const out = s.slice();
  for (let r = 0; r < rows; r++) addRowTimes(s, r * d, a, d, out, r * d);
  return out;
}

/** Backward of {@link sessionMapForward}: returns dL/ds = g + g·Aᵀ and adds sᵀg into `dA`. */
export function sessionMapBackward(g: Float32Array, s: Float32Array, rows: number, a: Float32Array, d: number, dA: Float32Array): Float32Array {
  const ds = g.slice();
  for (let r = 0; r < rows; r++) addRowTimesBackward(s, r * d, a, g, r * d, d, 1, dA, ds);
  return ds;
}

/** `a[ia..ia+d) · b[ib..ib+d)`. */
export function dotAt(a: Float32Array, ia: number, b: Float32Array, ib: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += a[ia + i]! * b[ib + i]!;
  return s;
}
