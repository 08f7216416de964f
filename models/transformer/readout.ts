/**
 * The item-attention readout (CORE's representation-consistent encoder, Hou et al. 2022): the session vector
 * at position t is a weighted sum of the session's own input item embeddings,
 * `s_t = Σ_{j≤t} α_tj · x_j` with `α_t· = softmax_{j≤t}(v · h_j)`, where h_j is the transformer's output at j.
 * The transformer decides how much each clicked item counts; the result lives in the item embedding space, so
 * scoring it against the (tied) item table compares like with like. Causal, so training covers every
 * position at once and a streaming session only appends one score per event.
 */

export interface ReadoutCache {
  /** α `[B, T, T]` (row t holds the weights over j ≤ t). */
  readonly alpha: Float32Array;
  /** Per position `v · h_j` `[B·T]`. */
  readonly logits: Float32Array;
}

/**
 * Forward over right-padded windows: `h` transformer outputs `[B·T, d]`, `x` item embeddings of the inputs
 * `[B·T, d]`, `lengths[b]` valid positions of window b. Returns `s` `[B·T, d]` (zero past each length).
 */
export function readoutForward(h: Float32Array, x: Float32Array, v: Float32Array, lengths: readonly number[], T: number, d: number): { s: Float32Array; cache: ReadoutCache } {
  const B = lengths.length;
  const logits = new Float32Array(B * T);
  const alpha = new Float32Array(B * T * T);
  const s = new Float32Array(B * T * d);
  for (let b = 0; b < B; b++) {
    const n = lengths[b]!;
    for (let j = 0; j < n; j++) {
      const o = (b * T + j) * d;
      let a = 0;
      for (let i = 0; i < d; i++) a += v[i]! * h[o + i]!;
      logits[b * T + j] = a;
    }
    for (let t = 0; t < n; t++) {
      const row = (b * T + t) * T;
      weightsInto(logits, b * T, t + 1, alpha, row);
      const so = (b * T + t) * d;
      for (let j = 0; j <= t; j++) {
        const w = alpha[row + j]!, xo = (b * T + j) * d;
        for (let i = 0; i < d; i++) s[so + i] = s[so + i]! + w * x[xo + i]!;
      }
    }
  }
  return { s, cache: { alpha, logits } };
}

/**
 * Backward: given dL/ds `[B·T, d]`, returns dL/dh and dL/dx (both `[B·T, d]`) and adds dL/dv into `dv`.
 * With g_t = dL/ds_t: dx_j = Σ_{t≥j} α_tj g_t; da_j = Σ_{t≥j} α_tj (g_t·x_j − g_t·s_t); dh_j = da_j v.
 */
export function readoutBackward(ds: Float32Array, h: Float32Array, x: Float32Array, s: Float32Array, v: Float32Array, dv: Float32Array, cache: ReadoutCache, lengths: readonly number[], T: number, d: number): { dh: Float32Array; dx: Float32Array } {
  const B = lengths.length;
  const dh = new Float32Array(B * T * d);
  const dx = new Float32Array(B * T * d);
  const da = new Float32Array(T);
  for (let b = 0; b < B; b++) {
    const n = lengths[b]!;
    da.fill(0);
    for (let t = 0; t < n; t++) {
      const go = (b * T + t) * d, row = (b * T + t) * T;
      let gs = 0;
      for (let i = 0; i < d; i++) gs += ds[go + i]! * s[go + i]!;
      for (let j = 0; j <= t; j++) {
        const w = cache.alpha[row + j]!, xo = (b * T + j) * d;
        let gx = 0;
        for (let i = 0; i < d; i++) { gx += ds[go + i]! * x[xo + i]!; dx[xo + i] = dx[xo + i]! + w * ds[go + i]!; }
        da[j] = da[j]! + w * (gx - gs);
      }
    }
    for (let j = 0; j < n; j++) {
      const o = (b * T + j) * d, g = da[j]!;
      for (let i = 0; i < d; i++) { dh[o + i] = g * v[i]!; dv[i] = dv[i]! + g * h[o + i]!; }
    }
  }
  return { dh, dx };
}

/** Softmax of `logits[from .. from+count)` into `out[at ..]`. */
export function weightsInto(logits: ArrayLike<number>, from: number, count: number, out: Float32Array, at: number): void {
  let max = -Infinity;
  for (let j = 0; j < count; j++) max = Math.max(max, logits[from + j]!);
  let sum = 0;
  for (let j = 0; j < count; j++) { const e = Math.exp(logits[from + j]! - max); out[at + j] = e; sum += e; }
  for (let j = 0; j < count; j++) out[at + j] = out[at + j]! / sum;
}
