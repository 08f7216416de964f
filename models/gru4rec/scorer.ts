import { tf } from '../../src/backend/tf.js';
import type { Recommendation, Scorer } from '../../src/scoring/scorer.js';
import { topK, type ItemFilter } from '../../src/scoring/top-k.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { ItemScoringTable, type ItemScoringTableOptions } from '../scoring/item-scoring-table.js';
import { assertSyncReads, backendReadsSync, readAsync, readSync, runReads, runReadsAsync, runReadsSync, type ReadingComputation } from '../training/tensor-reads.js';
import type { GruCellWeights } from '../nn/gru.js';
import { addRepeatScores, repeatAwareTopK } from '../nn/repeat-scores.js';
import { gru4recStep } from './forward.js';
import type { Gru4RecParams } from './params.js';

interface LayerTensors extends GruCellWeights {
  readonly size: number;
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
  /** Repeat-aware scores per recency (config `repeatBias`), added on the host from `SessionState.items`. */
  private readonly repeatWeights: Float32Array | undefined;
  /** The scoring table's item rows and bias, for the plain score of a session item outside its top list. */
  private readonly tableCopy: { readonly vectors: Float32Array; readonly bias: Float32Array } | undefined;
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
    this.repeatWeights = params.repeatBias?.slice();
    // A copy: training updates params in place, and ANN re-scoring must match this scorer's tensors.
    const table = scoring && { vectors: params.itemTable.slice(), bias: params.outputBias.slice(), itemCount: params.itemCount, dims: d };
    this.scoringTable = table && new ItemScoringTable(table, scoring, (h, rows) => this.scoreTensor(h, rows));
    this.tableCopy = table && this.repeatWeights ? table : undefined;
  }

  /** How `recommend` finds the top items: `exact` or `ann` (from the `scoring` option), `score` without it. */
  get scoringMode(): 'exact' | 'ann' | 'score' {
    return this.scoringTable?.mode ?? 'score';
  }

  /**
   * Advances the sessions by their newest item. Synchronous on backends that read tensors synchronously (cpu,
   * wasm, tensorflow); a Promise elsewhere (webgpu in Node cannot `dataSync`), which the pipeline awaits.
   */
  observe(sessions: readonly SessionState[]): void | Promise<void> {
    this.checkOpen();
    return runReads(this.computeObserve(sessions));
  }

  private *computeObserve(sessions: readonly SessionState[]): ReadingComputation<void> {
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
      const next = yield* this.computeStep(items, rows.map((i) => states[i]!));
      rows.forEach((i, k) => { states[i] = next[k]!; });
    }
    sessions.forEach((s, i) => { s.modelState = states[i]; });
  }

  /** Full score rows; synchronous or a Promise like {@link observe}. */
  score(sessions: readonly SessionState[]): Float32Array | Promise<Float32Array> {
    this.checkOpen();
    const h = this.lastHidden(sessions);
    const withRepeats = (rows: Float32Array) => (this.repeatWeights ? addRepeatScores(rows, this.itemCount, sessions, this.repeatWeights) : rows);
    return backendReadsSync() ? withRepeats(this.scoreHidden(h, sessions.length)) : this.scoreHiddenAsync(h, sessions.length).then(withRepeats);
  }

  /**
   * Top `k` items per session (one filter per session) through the scoring table; the pipeline's fast path.
   * On backends without sync reads (webgpu) it scores every item (exact, also in `ann` mode) and awaits the
   * read, because the table's exact path reads synchronously.
   */
  recommend(sessions: readonly SessionState[], k: number, filters: readonly ItemFilter[]): Recommendation[] | Promise<Recommendation[]> {
    this.checkOpen();
    const h = this.lastHidden(sessions);
    if (!backendReadsSync()) {
      return (this.score(sessions) as Promise<Float32Array>).then((scores) => this.topKRows(scores, sessions.length, k, filters));
    }
    if (this.scoringTable) {
      const repeat = this.repeatWeights, table = this.tableCopy;
      if (!repeat || !table) return this.scoringTable.scoreTopK(h, sessions.length, k, filters);
      // Repeat scores change at most repeat.length items per session: the plain top k + that many holds the answer.
      const d = this.scoringTable.dims;
      return this.scoringTable.scoreTopK(h, sessions.length, k + repeat.length, filters).map((cand, b) => repeatAwareTopK(cand, sessions[b]!, repeat, k, filters[b], (it) => {
        let v = table.bias[it]!;
        for (let j = 0; j < d; j++) v += h[b * d + j]! * table.vectors[it * d + j]!;
        return v;
      }));
    }
    return this.topKRows(this.score(sessions) as Float32Array, sessions.length, k, filters);
  }

  private topKRows(scores: Float32Array, rows: number, k: number, filters: readonly ItemFilter[]): Recommendation[] {
    const out: Recommendation[] = [];
    for (let b = 0; b < rows; b++) out.push(topK(scores, k, filters[b], b * this.itemCount, this.itemCount));
    return out;
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

  /** Scores `rows` last-layer hidden vectors `[rows, d]` against every item (backends with sync reads only). */
  scoreHidden(hidden: Float32Array, rows: number): Float32Array {
    assertSyncReads('Gru4RecScorer.scoreHidden', 'scoreHiddenAsync');
    return readSync(() => this.scoreTensor(hidden, rows));
  }

  /** {@link scoreHidden} read with `await data()`: safe on every backend. */
  scoreHiddenAsync(hidden: Float32Array, rows: number): Promise<Float32Array> {
    return readAsync(() => this.scoreTensor(hidden, rows));
  }

  /** `scoreHidden` as a tensor the caller disposes. */
  scoreTensor(hidden: Float32Array, rows: number): tf.Tensor2D {
    const last = this.layers[this.layers.length - 1]!.size;
    return tf.tidy(() => tf.add(tf.matMul(tf.tensor2d(hidden, [rows, last]), this.outputTableT), this.outputBias));
  }

  /** One batched GRU step: input items and per-row states (all layers) → new states (backends with sync reads only). */
  step(items: Int32Array, states: readonly Float32Array[]): Float32Array[] {
    assertSyncReads('Gru4RecScorer.step', 'stepAsync');
    return runReadsSync(this.computeStep(items, states));
  }

  /** {@link step} read with `await data()`: safe on every backend. */
  stepAsync(items: Int32Array, states: readonly Float32Array[]): Promise<Float32Array[]> {
    return runReadsAsync(this.computeStep(items, states));
  }

  /**
   * The batched GRU step through the model's one forward ({@link gru4recStep}); every layer's new state comes
   * back in one read, concatenated per row as in `modelState`.
   */
  private *computeStep(items: Int32Array, states: readonly Float32Array[]): ReadingComputation<Float32Array[]> {
    const B = items.length;
    if (B === 0) return states.map(() => new Float32Array(this.stateSize));
    const packed = new Float32Array(B * this.stateSize);
    states.forEach((s, i) => packed.set(s.subarray(0, this.stateSize), i * this.stateSize));
    const sizes = this.layers.map((l) => l.size);
    const read: Float32Array = yield () => {
      const previous = tf.split(tf.tensor2d(packed, [B, this.stateSize]), sizes, 1) as tf.Tensor2D[];
      const x = tf.gather(this.inputTable, tf.tensor1d(items, 'int32'));
      return tf.concat(gru4recStep(x, previous, this.layers).states, 1);
    };
    return states.map((_, i) => read.slice(i * this.stateSize, (i + 1) * this.stateSize));
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
