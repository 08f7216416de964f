import { tf } from '../nn/gradients.js';
import { gatherRows } from '../../src/backend/gather.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { MASKED, multiHeadAttention } from '../nn/attention.js';
import { dense } from '../nn/dense.js';
import { assertSyncReads, readAsync, readSync } from '../training/tensor-reads.js';
import { timeBucket } from '../transformer/config.js';
import { embed, encode, gatherWindowRows, uploadDense, windowAttention, windowPositions } from '../transformer/forward.js';
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

/** The MLP's and the score feature's weights as tensors (names as in {@link BstRankerParams.named}). */
export type MlpTensors = ReadonlyMap<string, tf.Tensor>;

/** Uploads the MLP layers and the score weight. Caller disposes. */
export function uploadMlp(p: BstRankerParams): Map<string, tf.Tensor> {
  return new Map(p.named().filter((w) => w.name.startsWith('mlp_') || w.name === 'score_weight').map((w) => [w.name, tf.tensor(w.values, w.shape, 'float32')]));
}

/**
 * Click logits `[rows]`: the MLP (LeakyReLU between layers) over `[candidate output ‖ last-item output ‖ their
 * element-wise product (‖ score feature)]`, plus `score_weight · feature` when the config uses the first
 * stage's score. Training and inference both run this.
 */
export function clickLogits(p: BstRankerParams, w: MlpTensors, candidate: tf.Tensor2D, last: tf.Tensor2D, feature?: tf.Tensor1D): tf.Tensor1D {
  const parts: tf.Tensor2D[] = [candidate, last, tf.mul(candidate, last)];
  if (feature) parts.push(tf.reshape(feature, [-1, 1]) as tf.Tensor2D);
  let z = tf.concat(parts, 1);
  p.mlp.forEach((_, i) => {
    z = dense(z, w.get(`mlp_${i}/kernel`)!, w.get(`mlp_${i}/bias`)!);
    if (i < p.mlp.length - 1) z = tf.leakyRelu(z, p.config.leakySlope);
  });
  let logits = tf.reshape(z, [-1]) as tf.Tensor1D;
  if (feature) logits = tf.add(logits, tf.mul(w.get('score_weight')!, feature));
  return logits;
}

/** Time-gap buckets `[B·T]` of right-padded windows from gaps to the newest event (undefined: bucket 0). */
export function windowBuckets(gaps: readonly (readonly (number | undefined)[])[], T: number, buckets: number): Int32Array | undefined {
  if (buckets <= 0) return undefined;
  const out = new Int32Array(gaps.length * T);
  gaps.forEach((g, b) => g.forEach((x, t) => { out[b * T + t] = timeBucket(x, buckets); }));
  return out;
}

/**
 * BST ranking stage inference: the session's recent items plus one candidate go through the transformer
 * block (the candidate last, attending to all items), then the MLP gives a click logit. The items' part is
 * computed once per session and reused for all its candidates (causal attention: the items' outputs do not
 * depend on the candidate): each candidate is one query over the window's keys plus its own, in the same
 * layers as training. One read-back per call.
 */
export class BstRanker {
  private readonly dense: Map<string, tf.Tensor>;
  private readonly mlp: Map<string, tf.Tensor>;
  private disposed = false;

  constructor(readonly params: BstRankerParams) {
    this.dense = uploadDense(params.block);
    this.mlp = uploadMlp(params);
  }

  /**
   * Click logits `[sessions.length × M]` for `candidates` (row-major, M per session). Sessions need ≥ 1 item.
   * `candidateScores` (same layout) are the first stage's scores, required when the config uses them.
   * Backends with sync reads only (cpu, wasm, tensorflow); {@link logitsAsync} runs everywhere.
   */
  logits(sessions: readonly SessionState[], candidates: Int32Array, M: number, candidateScores?: Float32Array): Float32Array {
    assertSyncReads('BstRanker.logits', 'logitsAsync');
    return sessions.length === 0 ? new Float32Array(0) : readSync(this.logitsRead(sessions, candidates, M, candidateScores));
  }

  /** {@link logits} reading with `await data()`: every backend. */
  async logitsAsync(sessions: readonly SessionState[], candidates: Int32Array, M: number, candidateScores?: Float32Array): Promise<Float32Array> {
    return sessions.length === 0 ? new Float32Array(0) : readAsync(this.logitsRead(sessions, candidates, M, candidateScores));
  }

  private logitsRead(sessions: readonly SessionState[], candidates: Int32Array, M: number, candidateScores?: Float32Array): () => tf.Tensor {
    if (this.disposed) throw new Error('BstRanker is disposed');
    const useScore = this.params.config.useCandidateScore;
    if (useScore && !candidateScores) throw new InvalidOptionError('candidateScores', 'this ranker was trained with the first stage\'s scores as a feature; pass them (TwoStageScorer does)');
    const bp = this.params.block, c = bp.config, d = c.hiddenSize;
    const B = sessions.length, R = B * M;
    const wins = sessions.map((s) => rankerWindow(s, this.params.config.maxLength));
    const lengths = wins.map((w) => w.items.length);
    const T = Math.max(...lengths);
    const windowRows = gatherWindowRows(bp.itemTable, d, wins.map((w) => w.items), T);
    const buckets = windowBuckets(wins.map((w) => w.gaps), T, c.timeBuckets);
    // Candidate rows: item + position n + the "now" time bucket; each attends to its window's n keys and itself.
    const candidateRows = gatherWindowRows(bp.itemTable, d, [candidates], R);
    const candidatePositions = Int32Array.from({ length: R }, (_, r) => lengths[Math.floor(r / M)]!);
    const candidateBuckets = c.timeBuckets > 0 ? new Int32Array(R).fill(timeBucket(undefined, c.timeBuckets)) : undefined;
    const mask = new Float32Array(R * (T + 1));
    for (let r = 0; r < R; r++) mask.fill(MASKED, r * (T + 1) + lengths[Math.floor(r / M)]!, r * (T + 1) + T);
    const lastRows = Int32Array.from({ length: R }, (_, r) => Math.floor(r / M) * T + lengths[Math.floor(r / M)]! - 1);
    let feature: Float32Array | undefined;
    if (useScore && candidateScores) {
      feature = new Float32Array(R);
      for (let b = 0; b < B; b++) {
        let best = -Infinity;
        for (let m = 0; m < M; m++) best = Math.max(best, candidateScores[b * M + m]!);
        for (let m = 0; m < M; m++) feature[b * M + m] = candidateScores[b * M + m]! - best;
      }
    }
    return () => {
      const w = this.dense;
      const win = encode(w, c, embed(w, tf.tensor2d(windowRows, [B * T, d]), windowPositions(lengths, T), buckets), windowAttention(c, B, T));
      const maskT = tf.tensor3d(mask, [R, 1, T + 1]);
      // Each candidate's keys: its session's window keys `[T, d]`, then its own.
      const withWindow = (window: tf.Tensor2D, own: tf.Tensor2D) => tf.reshape(tf.concat([tf.reshape(tf.tile(tf.reshape(window, [B, 1, T, d]), [1, M, 1, 1]), [R, T, d]), tf.reshape(own, [R, 1, d])], 1), [R * (T + 1), d]) as tf.Tensor2D;
      const cand = encode(w, c, embed(w, tf.tensor2d(candidateRows, [R, d]), candidatePositions, candidateBuckets), (block, q, k, v) =>
        multiHeadAttention(q, withWindow(win.keys[block]!, k), withWindow(win.values[block]!, v), { B: R, Tq: 1, Tk: T + 1, heads: c.heads }, maskT));
      const last = gatherRows(win.hidden, tf.tensor1d(lastRows, 'int32'));
      return clickLogits(this.params, this.mlp, cand.hidden, last, feature ? tf.tensor1d(feature) : undefined);
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.dense.values(), ...this.mlp.values()]);
  }
}
