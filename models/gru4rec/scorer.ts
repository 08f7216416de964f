import { tf } from '../../src/backend/tf.js';
import { writeRows } from '../../src/backend/wasm-rows.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { ItemScoringTable, type ItemScoringTableOptions, type ScoreAdditions } from '../scoring/item-scoring-table.js';
import { repeatAdditions } from '../nn/repeat-scores.js';
import { SessionSlots, type SessionSlot, type SessionSlotsOptions } from '../scoring/session-slots.js';
import { growRows, SlotTableScorer } from '../scoring/slot-table-scorer.js';
import { readAsync } from '../training/tensor-reads.js';
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
export class Gru4RecScorer extends SlotTableScorer {
  readonly name = 'gru4rec';
  /** Floats per session in the slot table (every layer's state). */
  readonly stateSize: number;
  private readonly inputTable: tf.Tensor2D;
  private readonly layers: LayerTensors[];
  /** The slot table `[slots.capacity, stateSize]`. */
  private states: tf.Tensor2D;
  /** Repeat-aware scores per recency (config `repeatBias`), added to the score rows before the top-k. */
  private readonly repeatWeights: Float32Array | undefined;

  /**
   * `options.scoring` picks the `recommend` path (here `exact` unless given: `ann` or `auto` build an HNSW graph,
   * seconds to minutes); the slot options bound the sessions kept on the backend.
   */
  constructor(params: Gru4RecParams, options: Gru4RecScorerOptions = {}) {
    const d = params.outSize;
    // A copy (training updates params in place): the output table and bias, resident on the backend for exact
    // scores and on the host for the ANN path's graph and re-scoring.
    super(new SessionSlots(options), new ItemScoringTable(
      { vectors: params.itemTable.slice(), bias: params.outputBias.slice(), itemCount: params.itemCount, dims: d },
      { ...options, scoring: options.scoring ?? 'exact' }));
    this.inputTable = params.inputTable ? tf.tensor2d(params.inputTable.slice(), [params.itemCount, params.inSize]) : tf.tensor2d(params.itemTable.slice(), [params.itemCount, d]);
    this.layers = params.layers.map((l) => ({
      size: l.size,
      kernel: tf.tensor2d(l.kernel.slice(), [l.inSize, 3 * l.size]),
      recurrent: tf.tensor2d(l.recurrent.slice(), [l.size, 3 * l.size]),
      bias: tf.tensor1d(l.bias.slice()),
    }));
    this.stateSize = params.layers.reduce((n, l) => n + l.size, 0);
    this.repeatWeights = params.repeatBias?.slice();
    this.states = tf.zeros([this.slots.capacity, this.stateSize]);
  }

  /** The sessions' last-layer states (slots rebuilt, without a read, where missing). */
  protected queries(sessions: readonly SessionState[]): () => tf.Tensor2D {
    const rows = this.rowsOf(sessions);
    return () => this.lastHidden(rows);
  }

  /** The repeat-aware scores of the sessions' recent items (config `repeatBias`), as sparse additions. */
  protected additions(sessions: readonly SessionState[]): ScoreAdditions | undefined {
    return this.repeatWeights && repeatAdditions(sessions, this.repeatWeights, this.itemCount);
  }

  /** Every layer's state of the sessions, `[sessions, stateSize]` (one read; for tests and tools). */
  readStates(sessions: readonly SessionState[]): Promise<Float32Array> {
    this.checkOpen();
    const rows = this.rowsOf(sessions);
    return readAsync(() => tf.gather(this.states, tf.tensor1d(rows, 'int32')));
  }

  protected stateTensors(): tf.Tensor[] {
    return [this.states, this.inputTable, ...this.layers.flatMap((l) => [l.kernel, l.recurrent, l.bias])];
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
  protected advance(sessions: readonly SessionState[], onlyMissing: boolean): SessionSlot[] {
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
    this.states = growRows(this.states, this.slots.capacity);
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
    const h = tf.tidy(() => {
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
      return h;
    });
    this.states = writeRows(this.states, slotRows, h);
    h.dispose();
    work.forEach((i, r) => { out[i]!.length += seqs[r]!.length; });
    return out;
  }

  /** One GRU step of every layer through the model's one forward: input rows `[B, e]`, states `[B, stateSize]`. */
  private step(x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    if (this.layers.length === 1) return gru4recStep(x, [h], this.layers).states[0]!;
    const previous = tf.split(h, this.layers.map((l) => l.size), 1) as tf.Tensor2D[];
    return tf.concat(gru4recStep(x, previous, this.layers).states, 1);
  }
}
