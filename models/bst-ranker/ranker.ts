import { tf } from '../../src/backend/tf.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { affineReading, layerNormForward } from '../transformer/backprop.js';
import { assertSyncReads, runReadsAsync, runReadsSync, type ReadingComputation } from '../training/matmul.js';
import { timeBucket } from '../transformer/config.js';
import { embedWindows, readSequence, uploadDense } from '../transformer/forward.js';
import type { BstRankerParams } from './params.js';

/** The window of a session the ranker reads: its last `maxLength` items and their gaps to the newest event. */
export function rankerWindow(s: SessionState, maxLength: number): { items: number[]; gaps: (number | undefined)[] } {
  const items = s.items.slice(-maxLength);
  const start = s.items.length - items.length;
  const newest = s.times[s.items.length - 1];
  const gaps = items.map((_, t) => {
    const time = s.times[start + t];
    return newest === undefined || time === undefined ? undefined : newest - time;
  });
  return { items, gaps };
}

/** Builds the MLP input row: [candidate output ‖ last-item output ‖ their element-wise product]. */
export function mlpInput(out: Float32Array, row: number, cand: Float32Array, candOff: number, last: Float32Array, lastOff: number, d: number, feature?: number): void {
  const width = 3 * d + (feature === undefined ? 0 : 1);
  const o = row * width;
  if (feature !== undefined) out[o + 3 * d] = feature;
  for (let i = 0; i < d; i++) {
    const c = cand[candOff + i]!, l = last[lastOff + i]!;
    out[o + i] = c;
    out[o + d + i] = l;
    out[o + 2 * d + i] = c * l;
  }
}

export interface MlpOutput { logits: Float32Array; acts: Float32Array[]; pre: Float32Array[] }

/** MLP on `[rows, 3d]` → logits `[rows]` (LeakyReLU between layers). Backends with sync reads only. */
export function mlpForward(p: BstRankerParams, z0: Float32Array, rows: number): MlpOutput {
  return runReadsSync(mlpForwardReading(p, z0, rows));
}

/** {@link mlpForward} as a computation (models/training/matmul.ts ReadingComputation). */
export function* mlpForwardReading(p: BstRankerParams, z0: Float32Array, rows: number): ReadingComputation<MlpOutput> {
  const acts: Float32Array[] = [z0];
  const pre: Float32Array[] = [];
  let z = z0;
  for (let i = 0; i < p.mlp.length; i++) {
    const l = p.mlp[i]!;
    const y = yield* affineReading(z, rows, l.inSize, l.w, l.outSize, l.b);
    pre.push(y);
    if (i < p.mlp.length - 1) {
      const a = Float32Array.from(y, (v) => (v > 0 ? v : v * p.config.leakySlope));
      acts.push(a);
      z = a;
    } else {
      z = y;
    }
  }
  return { logits: z, acts, pre };
}

/**
 * BST ranking stage inference: the session's recent items plus one candidate go through the transformer
 * block (the candidate last, attending to all items), then the MLP gives a click logit. The items' part is
 * computed once per session and reused for all its candidates (causal attention: the items' outputs do not
 * depend on the candidate), so ranking M candidates costs one window plus M single positions.
 */
export class BstRanker {
  private readonly dense: Map<string, tf.Tensor>;
  private disposed = false;

  constructor(readonly params: BstRankerParams) {
    this.dense = uploadDense(params.block);
  }

  /**
   * Click logits `[sessions.length × M]` for `candidates` (row-major, M per session). Sessions need ≥ 1 item.
   * `candidateScores` (same layout) are the first stage's scores, required when the config uses them.
   * Backends with sync reads only (cpu, wasm, tensorflow); {@link logitsAsync} runs everywhere.
   */
  logits(sessions: readonly SessionState[], candidates: Int32Array, M: number, candidateScores?: Float32Array): Float32Array {
    assertSyncReads('BstRanker.logits', 'logitsAsync');
    return runReadsSync(this.computeLogits(sessions, candidates, M, candidateScores));
  }

  /** {@link logits} reading tensors with `await data()` where the backend needs it (webgpu); every backend. */
  logitsAsync(sessions: readonly SessionState[], candidates: Int32Array, M: number, candidateScores?: Float32Array): Promise<Float32Array> {
    return runReadsAsync(this.computeLogits(sessions, candidates, M, candidateScores));
  }

  private *computeLogits(sessions: readonly SessionState[], candidates: Int32Array, M: number, candidateScores?: Float32Array): ReadingComputation<Float32Array> {
    if (this.disposed) throw new Error('BstRanker is disposed');
    const useScore = this.params.config.useCandidateScore;
    if (useScore && !candidateScores) throw new InvalidOptionError('candidateScores', 'this ranker was trained with the first stage\'s scores as a feature; pass them (TwoStageScorer does)');
    const bp = this.params.block, c = bp.config, d = c.hiddenSize, H = c.heads, dh = d / H;
    const L = this.params.config.maxLength;
    const B = sessions.length;
    if (B === 0) return new Float32Array(0);
    const wins = sessions.map((s) => rankerWindow(s, L));
    const T = wins.reduce((m, w) => Math.max(m, w.items.length), 1);
    const x = embedWindows(bp, wins.map((w) => w.items), T, wins.map((w) => w.gaps));
    const { hidden, keys, values } = yield* readSequence(this.dense, c, x, B, T);
    // Candidate rows: item + position n + the "now" time bucket.
    const R = B * M;
    const pos = bp.get('position_table');
    const time = c.timeBuckets > 0 ? bp.get('time_table') : undefined;
    const tb0 = timeBucket(undefined, c.timeBuckets) * d;
    let h: Float32Array = new Float32Array(R * d);
    for (let b = 0; b < B; b++) {
      const n = wins[b]!.items.length;
      for (let m = 0; m < M; m++) {
        const o = (b * M + m) * d, e = candidates[b * M + m]! * d;
        for (let i = 0; i < d; i++) h[o + i] = bp.itemTable[e + i]! + pos[n * d + i]! + (time ? time[tb0 + i]! : 0);
      }
    }
    const scale = 1 / Math.sqrt(dh);
    const sc = new Float32Array(T + 1);
    for (let blk = 0; blk < c.blocks; blk++) {
      const w = (name: string) => bp.get(`block_${blk}/${name}`);
      const a = layerNormForward(h, R, d, w('ln1_gamma'), w('ln1_beta')).y;
      const q = yield* affineReading(a, R, d, w('wq'), d, w('bq'));
      const k = yield* affineReading(a, R, d, w('wk'), d, w('bk'));
      const v = yield* affineReading(a, R, d, w('wv'), d, w('bv'));
      const att = new Float32Array(R * d);
      const K = keys[blk]!, V = values[blk]!;
      for (let b = 0; b < B; b++) {
        const n = wins[b]!.items.length;
        for (let m = 0; m < M; m++) {
          const row = (b * M + m) * d;
          for (let hh = 0; hh < H; hh++) {
            const ho = hh * dh;
            let max = -Infinity;
            for (let j = 0; j <= n; j++) {
              const kr = j < n ? K : k, ko = j < n ? (b * T + j) * d : row;
              let s = 0;
              for (let e = 0; e < dh; e++) s += q[row + ho + e]! * kr[ko + ho + e]!;
              sc[j] = s * scale;
              if (sc[j]! > max) max = sc[j]!;
            }
            let sum = 0;
            for (let j = 0; j <= n; j++) { sc[j] = Math.exp(sc[j]! - max); sum += sc[j]!; }
            for (let j = 0; j <= n; j++) {
              const vr = j < n ? V : v, vo = j < n ? (b * T + j) * d : row;
              const pj = sc[j]! / sum;
              for (let e = 0; e < dh; e++) att[row + ho + e] = att[row + ho + e]! + pj * vr[vo + ho + e]!;
            }
          }
        }
      }
      const u = yield* affineReading(att, R, d, w('wo'), d, w('bo'));
      for (let i = 0; i < h.length; i++) h[i] = h[i]! + u[i]!;
      const a2 = layerNormForward(h, R, d, w('ln2_gamma'), w('ln2_beta')).y;
      const z = yield* affineReading(a2, R, d, w('w1'), c.feedForwardSize, w('b1'));
      for (let i = 0; i < z.length; i++) if (z[i]! < 0) z[i] = 0;
      const f = yield* affineReading(z, R, c.feedForwardSize, w('w2'), d, w('b2'));
      for (let i = 0; i < h.length; i++) h[i] = h[i]! + f[i]!;
    }
    h = layerNormForward(h, R, d, bp.get('final_ln_gamma'), bp.get('final_ln_beta')).y;
    const z0 = new Float32Array(R * (3 * d + (useScore ? 1 : 0)));
    for (let b = 0; b < B; b++) {
      const last = (b * T + wins[b]!.items.length - 1) * d;
      let best = -Infinity;
      if (useScore) for (let m = 0; m < M; m++) best = Math.max(best, candidateScores![b * M + m]!);
      for (let m = 0; m < M; m++) mlpInput(z0, b * M + m, h, (b * M + m) * d, hidden, last, d, useScore ? candidateScores![b * M + m]! - best : undefined);
    }
    const logits = (yield* mlpForwardReading(this.params, z0, R)).logits;
    if (useScore) {
      const w = this.params.scoreWeight[0]!, width = 3 * d + 1;
      for (let r2 = 0; r2 < R; r2++) logits[r2] = logits[r2]! + w * z0[r2 * width + 3 * d]!;
    }
    return logits;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.dense.values()]);
  }
}
