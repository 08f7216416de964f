import { assertSyncReads, runReadsSync, type ReadingComputation } from '../training/matmul.js';
import { mmReading, mmTAReading, mmTBReading } from './linalg.js';
import type { TransformerConfig } from './config.js';
import { LAYER_NORM_EPSILON } from './forward.js';
import type { BlockWeightName, TransformerParams } from './params.js';

/*
 * The transformer's forward and backward pass for training, in Float32Arrays with the matrix products on
 * the TF.js backend (models/training/matmul.ts), like GRU4Rec's engine. TF.js autodiff is not used because
 * tfjs-core's node bundle registers no op gradients (and its ESM gradient files do not load in Node).
 * It computes exactly what forward.ts computes for inference; a test checks both agree and that the
 * gradients match finite differences. The passes are ReadingComputations (each product is yielded to be read
 * back): trainForward/trainBackward drive them synchronously (cpu, wasm), runReadsAsync on every backend.
 */

interface LayerNormCache { xhat: Float32Array; rstd: Float32Array }

interface BlockCache {
  hIn: Float32Array;
  ln1: LayerNormCache; a1: Float32Array;
  q: Float32Array; k: Float32Array; v: Float32Array;
  /** Attention probabilities `[B, H, T, T]`. */
  probs: Float32Array;
  attn: Float32Array;
  mask1: Float32Array | undefined;
  h2: Float32Array;
  ln2: LayerNormCache; a2: Float32Array;
  z: Float32Array; r: Float32Array;
  mask2: Float32Array | undefined;
}

export interface ForwardCache {
  readonly B: number;
  readonly T: number;
  readonly blocks: BlockCache[];
  readonly lnF: LayerNormCache;
  /** Final output `[B·T, d]`. */
  readonly out: Float32Array;
}

/** Dropout keep-multipliers for `n` values, or undefined for none. */
export type MaskFactory = (n: number) => Float32Array | undefined;

export function layerNormForward(x: Float32Array, rows: number, d: number, g: Float32Array, b: Float32Array): { y: Float32Array; cache: LayerNormCache } {
  const y = new Float32Array(rows * d), xhat = new Float32Array(rows * d), rstd = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[o + i]!;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) { const c = x[o + i]! - mean; v += c * c; }
    const rs = 1 / Math.sqrt(v / d + LAYER_NORM_EPSILON);
    rstd[r] = rs;
    for (let i = 0; i < d; i++) { const xh = (x[o + i]! - mean) * rs; xhat[o + i] = xh; y[o + i] = xh * g[i]! + b[i]!; }
  }
  return { y, cache: { xhat, rstd } };
}

/** Returns dx; adds dgamma/dbeta into `dg`/`db`. */
export function layerNormBackward(dy: Float32Array, c: LayerNormCache, rows: number, d: number, g: Float32Array, dg: Float32Array, db: Float32Array): Float32Array {
  const dx = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let m1 = 0, m2 = 0;
    for (let i = 0; i < d; i++) {
      const xh = c.xhat[o + i]!, dyi = dy[o + i]!;
      dg[i] = dg[i]! + dyi * xh;
      db[i] = db[i]! + dyi;
      const dxh = dyi * g[i]!;
      m1 += dxh; m2 += dxh * xh;
    }
    m1 /= d; m2 /= d;
    const rs = c.rstd[r]!;
    for (let i = 0; i < d; i++) dx[o + i] = rs * (dy[o + i]! * g[i]! - m1 - c.xhat[o + i]! * m2);
  }
  return dx;
}


/** `x·W + b` for `x[rows, inSize]`, `W[inSize, outSize]`, as a computation step. */
export function* affineReading(x: Float32Array, rows: number, inSize: number, w: Float32Array, outSize: number, b: Float32Array): ReadingComputation<Float32Array> {
  const y = yield* mmReading(x, rows, inSize, w, outSize);
  for (let r = 0; r < rows; r++) for (let j = 0; j < outSize; j++) y[r * outSize + j] = y[r * outSize + j]! + b[j]!;
  return y;
}


/** Weight gradients `dW += xᵀ·dy`, `db += Σ dy`; returns `dx = dy·Wᵀ`, as a computation step. */
export function* affineBackwardReading(dy: Float32Array, x: Float32Array, rows: number, inSize: number, w: Float32Array, outSize: number, dW: Float32Array, db: Float32Array): ReadingComputation<Float32Array> {
  const gw = yield* mmTAReading(x, rows, inSize, dy, outSize);
  for (let i = 0; i < gw.length; i++) dW[i] = dW[i]! + gw[i]!;
  for (let r = 0; r < rows; r++) for (let j = 0; j < outSize; j++) db[j] = db[j]! + dy[r * outSize + j]!;
  return yield* mmTBReading(dy, rows, outSize, w, inSize);
}

function mulInPlace(x: Float32Array, m: Float32Array | undefined): Float32Array {
  if (m) for (let i = 0; i < x.length; i++) x[i] = x[i]! * m[i]!;
  return x;
}

/** Causal multi-head attention over right-padded windows: returns `[B·T, d]` and the probabilities. */
function attentionForward(q: Float32Array, k: Float32Array, v: Float32Array, B: number, T: number, d: number, H: number): { out: Float32Array; probs: Float32Array } {
  const dh = d / H, scale = 1 / Math.sqrt(dh);
  const out = new Float32Array(B * T * d), probs = new Float32Array(B * H * T * T);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const ho = h * dh;
    for (let i = 0; i < T; i++) {
      const qi = (b * T + i) * d + ho;
      const po = ((b * H + h) * T + i) * T;
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        const kj = (b * T + j) * d + ho;
        let s = 0;
        for (let e = 0; e < dh; e++) s += q[qi + e]! * k[kj + e]!;
        s *= scale;
        probs[po + j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) { const e = Math.exp(probs[po + j]! - max); probs[po + j] = e; sum += e; }
      for (let j = 0; j <= i; j++) {
        const p = probs[po + j]! / sum;
        probs[po + j] = p;
        const vj = (b * T + j) * d + ho;
        for (let e = 0; e < dh; e++) out[qi + e] = out[qi + e]! + p * v[vj + e]!;
      }
    }
  }
  return { out, probs };
}

function attentionBackward(dOut: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array, B: number, T: number, d: number, H: number): { dq: Float32Array; dk: Float32Array; dv: Float32Array } {
  const dh = d / H, scale = 1 / Math.sqrt(dh);
  const dq = new Float32Array(B * T * d), dk = new Float32Array(B * T * d), dv = new Float32Array(B * T * d);
  const dp = new Float32Array(T);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const ho = h * dh;
    for (let i = 0; i < T; i++) {
      const qi = (b * T + i) * d + ho;
      const po = ((b * H + h) * T + i) * T;
      let dot = 0;
      for (let j = 0; j <= i; j++) {
        const vj = (b * T + j) * d + ho;
        let s = 0;
        for (let e = 0; e < dh; e++) { s += dOut[qi + e]! * v[vj + e]!; dv[vj + e] = dv[vj + e]! + probs[po + j]! * dOut[qi + e]!; }
        dp[j] = s;
        dot += s * probs[po + j]!;
      }
      for (let j = 0; j <= i; j++) {
        const ds = probs[po + j]! * (dp[j]! - dot) * scale;
        if (ds === 0) continue;
        const kj = (b * T + j) * d + ho;
        for (let e = 0; e < dh; e++) { dq[qi + e] = dq[qi + e]! + ds * k[kj + e]!; dk[kj + e] = dk[kj + e]! + ds * q[qi + e]!; }
      }
    }
  }
  return { dq, dk, dv };
}

/** Forward over `x` `[B·T, d]` (embedded windows); `masks` gives dropout multipliers (training). Backends with sync reads only. */
export function trainForward(p: TransformerParams, x: Float32Array, B: number, T: number, masks?: MaskFactory): ForwardCache {
  assertSyncReads('trainForward', 'trainForwardReading with runReadsAsync');
  return runReadsSync(trainForwardReading(p, x, B, T, masks));
}

/** {@link trainForward} as a computation: every backend through runReadsAsync. */
export function* trainForwardReading(p: TransformerParams, x: Float32Array, B: number, T: number, masks?: MaskFactory): ReadingComputation<ForwardCache> {
  const c: TransformerConfig = p.config, d = c.hiddenSize, f = c.feedForwardSize, R = B * T;
  const blocks: BlockCache[] = [];
  let h = x;
  for (let bi = 0; bi < c.blocks; bi++) {
    const w = (n: BlockWeightName) => p.block(bi, n);
    const l1 = layerNormForward(h, R, d, w('ln1_gamma'), w('ln1_beta'));
    const q = yield* affineReading(l1.y, R, d, w('wq'), d, w('bq'));
    const k = yield* affineReading(l1.y, R, d, w('wk'), d, w('bk'));
    const v = yield* affineReading(l1.y, R, d, w('wv'), d, w('bv'));
    const at = attentionForward(q, k, v, B, T, d, c.heads);
    const mask1 = masks?.(R * d);
    const u = mulInPlace(yield* affineReading(at.out, R, d, w('wo'), d, w('bo')), mask1);
    const h2 = new Float32Array(R * d);
    for (let i = 0; i < h2.length; i++) h2[i] = h[i]! + u[i]!;
    const l2 = layerNormForward(h2, R, d, w('ln2_gamma'), w('ln2_beta'));
    const z = yield* affineReading(l2.y, R, d, w('w1'), f, w('b1'));
    const r = Float32Array.from(z, (v2) => (v2 > 0 ? v2 : 0));
    const mask2 = masks?.(R * d);
    const ff = mulInPlace(yield* affineReading(r, R, f, w('w2'), d, w('b2')), mask2);
    const h3 = new Float32Array(R * d);
    for (let i = 0; i < h3.length; i++) h3[i] = h2[i]! + ff[i]!;
    blocks.push({ hIn: h, ln1: l1.cache, a1: l1.y, q, k, v, probs: at.probs, attn: at.out, mask1, h2, ln2: l2.cache, a2: l2.y, z, r, mask2 });
    h = h3;
  }
  const lf = layerNormForward(h, R, d, p.get('final_ln_gamma'), p.get('final_ln_beta'));
  return { B, T, blocks, lnF: lf.cache, out: lf.y };
}

/**
 * Backward from `dOut` (`[B·T, d]`): adds weight gradients into `grads` (keyed by dense weight name, same
 * shapes) and returns the gradient with respect to the input `x`. Backends with sync reads only.
 */
export function trainBackward(p: TransformerParams, cache: ForwardCache, dOut: Float32Array, grads: Map<string, Float32Array>): Float32Array {
  assertSyncReads('trainBackward', 'trainBackwardReading with runReadsAsync');
  return runReadsSync(trainBackwardReading(p, cache, dOut, grads));
}

/** {@link trainBackward} as a computation: every backend through runReadsAsync. */
export function* trainBackwardReading(p: TransformerParams, cache: ForwardCache, dOut: Float32Array, grads: Map<string, Float32Array>): ReadingComputation<Float32Array> {
  const c = p.config, d = c.hiddenSize, f = c.feedForwardSize, R = cache.B * cache.T;
  const g = (name: string) => grads.get(name)!;
  let dh = layerNormBackward(dOut, cache.lnF, R, d, p.get('final_ln_gamma'), g('final_ln_gamma'), g('final_ln_beta'));
  for (let bi = c.blocks - 1; bi >= 0; bi--) {
    const k = cache.blocks[bi]!;
    const w = (n: BlockWeightName) => p.block(bi, n);
    const gw = (n: BlockWeightName) => g(`block_${bi}/${n}`);
    // Feed-forward branch.
    const dff = mulInPlace(dh.slice(), k.mask2);
    const dr = yield* affineBackwardReading(dff, k.r, R, f, w('w2'), d, gw('w2'), gw('b2'));
    for (let i = 0; i < dr.length; i++) if (!(k.z[i]! > 0)) dr[i] = 0;
    const da2 = yield* affineBackwardReading(dr, k.a2, R, d, w('w1'), f, gw('w1'), gw('b1'));
    const dh2 = layerNormBackward(da2, k.ln2, R, d, w('ln2_gamma'), gw('ln2_gamma'), gw('ln2_beta'));
    for (let i = 0; i < dh2.length; i++) dh2[i] = dh2[i]! + dh[i]!;
    // Attention branch.
    const du = mulInPlace(dh2.slice(), k.mask1);
    const dAttn = yield* affineBackwardReading(du, k.attn, R, d, w('wo'), d, gw('wo'), gw('bo'));
    const { dq, dk, dv } = attentionBackward(dAttn, k.q, k.k, k.v, k.probs, cache.B, cache.T, d, c.heads);
    const da1 = yield* affineBackwardReading(dq, k.a1, R, d, w('wq'), d, gw('wq'), gw('bq'));
    const dak = yield* affineBackwardReading(dk, k.a1, R, d, w('wk'), d, gw('wk'), gw('bk'));
    const dav = yield* affineBackwardReading(dv, k.a1, R, d, w('wv'), d, gw('wv'), gw('bv'));
    for (let i = 0; i < da1.length; i++) da1[i] = da1[i]! + dak[i]! + dav[i]!;
    const dIn = layerNormBackward(da1, k.ln1, R, d, w('ln1_gamma'), gw('ln1_gamma'), gw('ln1_beta'));
    for (let i = 0; i < dIn.length; i++) dIn[i] = dIn[i]! + dh2[i]!;
    dh = dIn;
  }
  return dh;
}
