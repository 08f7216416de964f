import { tf } from '../../src/backend/tf.js';
import type { Recommendation, Scorer } from '../../src/scoring/scorer.js';
import { topK, type ItemFilter } from '../../src/scoring/top-k.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { ItemScoringTable, type ItemScoringTableOptions } from '../scoring/item-scoring-table.js';
import type { Gru4RecParams } from './params.js';

interface LayerTensors {
  readonly size: number;
  readonly kernel: tf.Tensor2D;
  readonly recurrent: tf.Tensor2D;
  readonly bias: tf.Tensor1D;
}

/**
 * Incremental GRU4Rec inference on the active TF.js backend. A session's hidden state (all layers,
 * concatenated) lives in `SessionState.modelState` as a Float32Array; `observe` advances every given
 * session by one GRU step in one batched call (rebuilding from `items` when the state is missing) and
 * `score` multiplies the last layer's state with the item table, kept as `[d, N]` because a transposed
 * matMul is much slower on wasm.
 */
export class Gru4RecScorer implements Scorer {
  readonly name = 'gru4rec';
  readonly itemCount: number;
  /** Floats per session in `modelState`. */
  readonly stateSize: number;
  private readonly inputTable: tf.Tensor2D;
  private readonly outputTableT: tf.Tensor2D;
  private readonly outputBias: tf.Tensor1D;
  private readonly layers: LayerTensors[];
  private readonly scoringTable: ItemScoringTable | undefined;
  private disposed = false;

  /**
   * `scoring` enables the serving fast path `recommend` through an {@link ItemScoringTable} (exact or ANN
   * top-k; building an ANN graph takes seconds to minutes). Without it, `recommend` is `score` + top-k.
   */
  constructor(params: Gru4RecParams, scoring?: ItemScoringTableOptions) {
    this.itemCount = params.itemCount;
    const d = params.outSize;
    this.outputTableT = tf.tidy(() => tf.transpose(tf.tensor2d(params.itemTable, [params.itemCount, d])));
    this.outputBias = tf.tensor1d(params.outputBias.slice());
    this.inputTable = params.inputTable ? tf.tensor2d(params.inputTable.slice(), [params.itemCount, params.inSize]) : tf.tensor2d(params.itemTable.slice(), [params.itemCount, d]);
    this.layers = params.layers.map((l) => ({
      size: l.size,
      kernel: tf.tensor2d(l.kernel.slice(), [l.inSize, 3 * l.size]),
      recurrent: tf.tensor2d(l.recurrent.slice(), [l.size, 3 * l.size]),
      bias: tf.tensor1d(l.bias.slice()),
    }));
    this.stateSize = params.layers.reduce((n, l) => n + l.size, 0);
    // A copy: training updates params in place, and ANN re-scoring must match this scorer's tensors.
    this.scoringTable = scoring && new ItemScoringTable(
      { vectors: params.itemTable.slice(), bias: params.outputBias.slice(), itemCount: params.itemCount, dims: d },
      scoring, (h, rows) => this.scoreTensor(h, rows));
  }

  /** How `recommend` finds the top items: `exact` or `ann` (from the `scoring` option), `score` without it. */
  get scoringMode(): 'exact' | 'ann' | 'score' {
    return this.scoringTable?.mode ?? 'score';
  }

  observe(sessions: readonly SessionState[]): void {
    this.checkOpen();
    // Sessions needing a rebuild replay all their items; the others take one step from their state.
    const seqs: number[][] = [];
    const states: Float32Array[] = [];
    for (const s of sessions) {
      const st = s.modelState;
      if (st instanceof Float32Array && st.length === this.stateSize) {
        const last = s.items[s.items.length - 1];
        seqs.push(last === undefined ? [] : [last]);
        states.push(st.slice());
      } else {
        seqs.push(s.items.slice());
        states.push(new Float32Array(this.stateSize));
      }
    }
    const steps = seqs.reduce((m, q) => Math.max(m, q.length), 0);
    for (let t = 0; t < steps; t++) {
      const rows: number[] = [];
      for (let i = 0; i < seqs.length; i++) if (t < seqs[i]!.length) rows.push(i);
      const items = Int32Array.from(rows, (i) => seqs[i]![t]!);
      const next = this.step(items, rows.map((i) => states[i]!));
      rows.forEach((i, k) => { states[i] = next[k]!; });
    }
    sessions.forEach((s, i) => { s.modelState = states[i]; });
  }

  score(sessions: readonly SessionState[]): Float32Array {
    this.checkOpen();
    return this.scoreHidden(this.lastHidden(sessions), sessions.length);
  }

  /** Top `k` items per session (one filter per session) through the scoring table; the pipeline's fast path. */
  recommend(sessions: readonly SessionState[], k: number, filters: readonly ItemFilter[]): Recommendation[] {
    this.checkOpen();
    const h = this.lastHidden(sessions);
    if (this.scoringTable) return this.scoringTable.scoreTopK(h, sessions.length, k, filters);
    const scores = this.scoreHidden(h, sessions.length);
    return sessions.map((_, b) => topK(scores, k, filters[b], b * this.itemCount, this.itemCount));
  }

  /** Last-layer hidden vectors `[sessions, d]` (zeros for a session without state). */
  private lastHidden(sessions: readonly SessionState[]): Float32Array {
    const B = sessions.length;
    const last = this.layers[this.layers.length - 1]!.size;
    const offset = this.stateSize - last;
    const h = new Float32Array(B * last);
    sessions.forEach((s, i) => {
      const st = s.modelState;
      if (st instanceof Float32Array && st.length === this.stateSize) h.set(st.subarray(offset), i * last);
    });
    return h;
  }

  /** Scores `rows` last-layer hidden vectors `[rows, d]` against every item. */
  scoreHidden(hidden: Float32Array, rows: number): Float32Array {
    const t = this.scoreTensor(hidden, rows);
    try {
      return t.dataSync() as Float32Array;
    } finally {
      t.dispose();
    }
  }

  /** `scoreHidden` as a tensor the caller disposes. */
  scoreTensor(hidden: Float32Array, rows: number): tf.Tensor2D {
    const last = this.layers[this.layers.length - 1]!.size;
    return tf.tidy(() => tf.add(tf.matMul(tf.tensor2d(hidden, [rows, last]), this.outputTableT), this.outputBias));
  }

  /** One batched GRU step: input items and per-row states (all layers) → new states. */
  step(items: Int32Array, states: readonly Float32Array[]): Float32Array[] {
    const B = items.length;
    const out = states.map(() => new Float32Array(this.stateSize));
    if (B === 0) return out;
    tf.tidy(() => {
      let x: tf.Tensor2D = tf.gather(this.inputTable, tf.tensor1d(items, 'int32'));
      let offset = 0;
      for (const l of this.layers) {
        const h = l.size;
        const hp = new Float32Array(B * h);
        states.forEach((s, i) => hp.set(s.subarray(offset, offset + h), i * h));
        const hpT = tf.tensor2d(hp, [B, h]);
        const a = tf.add(tf.matMul(x, l.kernel), l.bias);
        const c = tf.matMul(hpT, l.recurrent);
        const [ar, az, an] = tf.split(a, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const [cr, cz, cn] = tf.split(c, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const r = tf.sigmoid(tf.add(ar, cr));
        const z = tf.sigmoid(tf.add(az, cz));
        const n = tf.tanh(tf.add(an, tf.mul(r, cn)));
        const hn: tf.Tensor2D = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, hpT));
        const vals = hn.dataSync() as Float32Array;
        for (let i = 0; i < B; i++) out[i]!.set(vals.subarray(i * h, (i + 1) * h), offset);
        x = hn;
        offset += h;
      }
    });
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.scoringTable?.dispose();
    tf.dispose([this.inputTable, this.outputTableT, this.outputBias, ...this.layers.flatMap((l) => [l.kernel, l.recurrent, l.bias])]);
  }

  private checkOpen(): void {
    if (this.disposed) throw new Error('Gru4RecScorer is disposed');
  }
}
