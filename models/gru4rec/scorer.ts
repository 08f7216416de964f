import { tf } from '../../src/backend/tf.js';
import type { Recommendation, Scorer } from '../../src/scoring/scorer.js';
import type { ItemFilter } from '../../src/scoring/top-k.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { addScoreAdditions, ItemScoringTable, type ItemScoringTableOptions, type ScoreAdditions } from '../scoring/item-scoring-table.js';
import { repeatAdditions } from '../nn/repeat-scores.js';
import { SessionSlots, type SessionSlot, type SessionSlotsOptions } from '../scoring/session-slots.js';
import { readAsync, runReads, type ReadingComputation } from '../training/tensor-reads.js';
import type { GruCellWeights } from '../nn/gru.js';
import { gru4recStep } from './forward.js';
import type { Gru4RecParams } from './params.js';

interface LayerTensors extends GruCellWeights {
  readonly size: number;
}

/** Options of {@link Gru4RecScorer}: the serving top-k path and the backend slot table. */
export interface Gru4RecScorerOptions extends ItemScoringTableOptions, SessionSlotsOptions {}

/**
 * Incremental GRU4Rec inference on the active TF.js backend, for serving. Every session's hidden state (all
 * layers, concatenated) is a row of one backend-resident slot table; `SessionState.modelState` holds the
 * session's {@link SessionSlot}. A serving micro-batch costs one read-back:
 * - `observe` uploads the newest item ids and slot indices, runs the one forward ({@link gru4recStep}) for the
 *   batch (sessions without a valid slot are rebuilt from their items in the same call) and writes the new
 *   states into the table: no read-back.
 * - `recommend` gathers the sessions' last-layer states, scores them against the item table and selects the
 *   filtered top k ({@link ItemScoringTable}): one read of k ids and scores per row (exact path), or of the
 *   query vectors (ANN path, which searches on the host).
 * - `score` reads the full score rows once.
 * `release` (called by the pipeline when a session closes) frees the session's slot.
 */
export class Gru4RecScorer implements Scorer {
  readonly name = 'gru4rec';
  readonly itemCount: number;
  /** Floats per session in the slot table (every layer's state). */
  readonly stateSize: number;
  private readonly inputTable: tf.Tensor2D;
  private readonly layers: LayerTensors[];
  private readonly scoringTable: ItemScoringTable;
  private readonly slots: SessionSlots;
  /** The slot table `[slots.capacity, stateSize]`. */
  private states: tf.Tensor2D;
  /** Repeat-aware scores per recency (config `repeatBias`), added to the score rows before the top-k. */
  private readonly repeatWeights: Float32Array | undefined;
  private disposed = false;

  /**
   * `options.scoring` picks the `recommend` path (here `exact` unless given: `ann` or `auto` build an HNSW graph,
   * seconds to minutes); the slot options bound the sessions kept on the backend.
   */
  constructor(params: Gru4RecParams, options: Gru4RecScorerOptions = {}) {
    this.itemCount = params.itemCount;
    const d = params.outSize;
    this.inputTable = params.inputTable ? tf.tensor2d(params.inputTable.slice(), [params.itemCount, params.inSize]) : tf.tensor2d(params.itemTable.slice(), [params.itemCount, d]);
    this.layers = params.layers.map((l) => ({
      size: l.size,
      kernel: tf.tensor2d(l.kernel.slice(), [l.inSize, 3 * l.size]),
      recurrent: tf.tensor2d(l.recurrent.slice(), [l.size, 3 * l.size]),
      bias: tf.tensor1d(l.bias.slice()),
    }));
    this.stateSize = params.layers.reduce((n, l) => n + l.size, 0);
    this.repeatWeights = params.repeatBias?.slice();
    this.slots = new SessionSlots(options);
    this.states = tf.zeros([this.slots.capacity, this.stateSize]);
    // A copy (training updates params in place): the output table and bias, resident on the backend for exact
    // scores and on the host for the ANN path's graph and re-scoring.
    this.scoringTable = new ItemScoringTable(
      { vectors: params.itemTable.slice(), bias: params.outputBias.slice(), itemCount: params.itemCount, dims: d },
      { ...options, scoring: options.scoring ?? 'exact' });
  }

  /** How `recommend` finds the top items (option `scoring`, `auto` resolved). */
  get scoringMode(): 'exact' | 'ann' {
    return this.scoringTable.mode;
  }

  /** Sessions holding a slot of the backend state table. */
  get liveSlots(): number {
    return this.slots.size;
  }

  /**
   * Advances the sessions by their newest item on the backend (sessions without a valid slot are rebuilt from
   * their items). No read-back, on every backend.
   */
  observe(sessions: readonly SessionState[]): void {
    this.checkOpen();
    this.advance(sessions, false);
  }

  /** Frees the sessions' slots (they are closed); a later event rebuilds a session from its items. */
  release(sessions: readonly SessionState[]): void {
    for (const s of sessions) this.slots.release(s);
  }

  /** Full score rows, one read; synchronous where the backend reads synchronously, else a Promise (webgpu). */
  score(sessions: readonly SessionState[]): Float32Array | Promise<Float32Array> {
    this.checkOpen();
    const rows = this.rowsOf(sessions);
    return runReads((function* (self: Gru4RecScorer): ReadingComputation<Float32Array> {
      return yield () => addScoreAdditions(self.scoringTable.scoreTensor(self.lastHidden(rows)), self.repeatScores(sessions));
    })(this));
  }

  /**
   * Top `k` items per session (one filter per session): one read-back for the batch. Synchronous or a Promise
   * like {@link score}.
   */
  recommend(sessions: readonly SessionState[], k: number, filters: readonly ItemFilter[]): Recommendation[] | Promise<Recommendation[]> {
    this.checkOpen();
    const rows = this.rowsOf(sessions);
    return runReads(this.scoringTable.topKOf(() => this.lastHidden(rows), sessions.length, k, filters, this.repeatScores(sessions)));
  }

  /** The repeat-aware scores of the sessions' recent items (config `repeatBias`), as sparse additions. */
  private repeatScores(sessions: readonly SessionState[]): ScoreAdditions | undefined {
    return this.repeatWeights && repeatAdditions(sessions, this.repeatWeights, this.itemCount);
  }

  /** Every layer's state of the sessions, `[sessions, stateSize]` (one read; for tests and tools). */
  readStates(sessions: readonly SessionState[]): Promise<Float32Array> {
    this.checkOpen();
    const rows = this.rowsOf(sessions);
    return readAsync(() => tf.gather(this.states, tf.tensor1d(rows, 'int32')));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.scoringTable.dispose();
    tf.dispose([this.states, this.inputTable, ...this.layers.flatMap((l) => [l.kernel, l.recurrent, l.bias])]);
  }

  /** Slot rows of the sessions, rebuilding (no read) those without a valid slot. */
  private rowsOf(sessions: readonly SessionState[]): Int32Array {
    return Int32Array.from(this.advance(sessions, true), (slot) => slot.index);
  }

  /** Last-layer states `[rows, d]` of slot rows (inside `tf.tidy`). */
  private lastHidden(rows: Int32Array): tf.Tensor2D {
    const last = this.layers[this.layers.length - 1]!.size;
    const h = tf.gather(this.states, tf.tensor1d(rows, 'int32')) as tf.Tensor2D;
    return last === this.stateSize ? h : tf.slice(h, [0, this.stateSize - last], [-1, last]);
  }

  /**
   * One batched forward on the backend. Sessions with a valid slot take one step with their newest item
   * (`onlyMissing`: none at all); the others get a fresh slot and replay their items from a zero state. The new
   * states are scattered into the slot table. Returns each session's slot.
   */
  private advance(sessions: readonly SessionState[], onlyMissing: boolean): SessionSlot[] {
    const slots: (SessionSlot | undefined)[] = sessions.map((s) => this.slots.use(s));
    const keep = new Set<SessionSlot>();
    for (const slot of slots) if (slot) keep.add(slot);
    // Sessions without a valid slot (each once, should one appear twice) get a fresh one.
    const missing: number[] = [];
    const seen = new Set<SessionState>();
    slots.forEach((slot, i) => { if (!slot && !seen.has(sessions[i]!)) { seen.add(sessions[i]!); missing.push(i); } });
    const isFresh = new Uint8Array(sessions.length);
    this.slots.acquire(missing.map((i) => sessions[i]!), keep);
    missing.forEach((i) => { isFresh[i] = 1; });
    sessions.forEach((s, i) => { slots[i] ??= s.modelState as SessionSlot; });
    this.growStates();
    // Work rows: fresh slots (replay all items, or write zeros) and, unless onlyMissing, live ones (one step).
    const work: number[] = [];
    const seqs: ArrayLike<number>[] = [];
    sessions.forEach((s, i) => {
      if (isFresh[i]) { work.push(i); seqs.push(s.items); } else if (!onlyMissing && s.items.length > 0) { work.push(i); seqs.push([s.items[s.items.length - 1]!]); }
    });
    const out = slots as SessionSlot[];
    if (work.length === 0) return out;
    const W = work.length;
    const steps = seqs.reduce((m, q) => Math.max(m, q.length), 0);
    const slotRows = Int32Array.from(work, (i) => out[i]!.index);
    const fromZero = Float32Array.from(work, (i) => 1 - isFresh[i]!);
    const next = tf.tidy(() => {
      let h = tf.gather(this.states, tf.tensor1d(slotRows, 'int32')) as tf.Tensor2D;
      if (fromZero.some((v) => v === 0)) h = tf.mul(h, tf.tensor2d(fromZero, [W, 1]));
      for (let t = 0; t < steps; t++) {
        const active: number[] = [];
        for (let r = 0; r < W; r++) if (t < seqs[r]!.length) active.push(r);
        const x = tf.gather(this.inputTable, tf.tensor1d(Int32Array.from(active, (r) => seqs[r]![t]!), 'int32')) as tf.Tensor2D;
        if (active.length === W) h = this.step(x, h);
        else {
          const at = tf.tensor1d(active, 'int32');
          h = tf.tensorScatterUpdate(h, tf.reshape(at, [-1, 1]), this.step(x, tf.gather(h, at) as tf.Tensor2D));
        }
      }
      return tf.tensorScatterUpdate(this.states, tf.tensor2d(slotRows, [W, 1], 'int32'), h);
    });
    this.states.dispose();
    this.states = next;
    work.forEach((i, r) => { out[i]!.length += seqs[r]!.length; });
    return out;
  }

  /** One GRU step of every layer through the model's one forward: input rows `[B, e]`, states `[B, stateSize]`. */
  private step(x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    if (this.layers.length === 1) return gru4recStep(x, [h], this.layers).states[0]!;
    const previous = tf.split(h, this.layers.map((l) => l.size), 1) as tf.Tensor2D[];
    return tf.concat(gru4recStep(x, previous, this.layers).states, 1);
  }

  /** Grows the slot table to the slots' capacity (new rows zero). */
  private growStates(): void {
    const rows = this.states.shape[0];
    if (rows >= this.slots.capacity) return;
    const grown = tf.tidy(() => tf.concat([this.states, tf.zeros([this.slots.capacity - rows, this.stateSize])]));
    this.states.dispose();
    this.states = grown as tf.Tensor2D;
  }

  private checkOpen(): void {
    if (this.disposed) throw new Error('Gru4RecScorer is disposed');
  }
}
