import { tf } from '../nn/gradients.js';
import { writeRows } from '../../src/backend/wasm-rows.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { ModelFormatError } from '../../src/errors.js';
import { lengthMask, multiHeadAttention } from '../nn/attention.js';
import { MIN_NORM, normalizeRows } from '../nn/cosine.js';
import { itemAttention, readoutLogits } from '../nn/readout.js';
import { ItemScoringTable, type ItemScoringTableOptions, type ScoreAdditions } from '../scoring/item-scoring-table.js';
import { SessionSlots, type SessionSlot, type SessionSlotsOptions } from '../scoring/session-slots.js';
import { growRows, SlotTableScorer } from '../scoring/slot-table-scorer.js';
import { readAsync } from '../training/tensor-reads.js';
import { forEachRecentItem } from '../nn/repeat-scores.js';
import { timeBucket } from './config.js';
import { embed, encode, uploadDense, windowAttention, windowPositions, windowReadout, type Attend } from './forward.js';
import type { TransformerParams } from './params.js';
import { transitionFeature, type TransitionGraph } from './transitions.js';

/**
 * Options for {@link TransformerScorer}: the KV cache, the serving top-k path (exact unless `scoring` says
 * otherwise: `ann` or `auto` build an HNSW graph over the output table) and the backend slot table.
 */
export interface TransformerScorerOptions extends ItemScoringTableOptions, SessionSlotsOptions {
  /**
   * Keep each block's keys and values per session so a new event computes one position instead of the
   * whole window. Off: every `observe` recomputes the window (the reference the cache is tested against).
   * @defaultValue true
   */
  readonly cache?: boolean;
}

/** The transformer's default `maxSlots`: a slot holds keys and values of the whole window per block. */
const TRANSFORMER_MAX_SLOTS = 4096;

/**
 * Streaming inference for the next-item transformer, on forward.ts's layers (the training forward), with every
 * session's state in backend-resident slot tables: per block the keys and values of its window
 * `[slots, maxLength, d]`, the session vector `[slots, d]` and the item-attention readout logits
 * `[slots, maxLength]`. `SessionState.modelState` holds the session's {@link SessionSlot} (its `length` is the
 * window length). With the cache, an event appended to a session whose window is not full costs one position
 * per block: its query attends over the cached keys/values plus its own (the same projections and attention as
 * training, one query per session). Positions count from the window's first item, so when a session grows past
 * `maxLength` the window slides and every cached key changes position: such sessions (and sessions without
 * state) are recomputed over their last `maxLength` items in one batched pass. `observe` uploads item ids, slot
 * indices and positions and reads nothing back; `recommend` and `score` read once per call. `recommend` selects
 * with the {@link ItemScoringTable} GRU4Rec uses (exact on the backend, or ANN candidates re-scored on the host).
 */
export class TransformerScorer extends SlotTableScorer {
  readonly name = 'transformer';
  readonly useCache: boolean;
  private readonly dense: Map<string, tf.Tensor>;
  /** Item embeddings `[N, d]` for the input rows. */
  private readonly itemRows: tf.Tensor2D;
  private readonly repeatBias: Float32Array | undefined;
  private readonly transitionPrior: { weight: Float32Array; graph: TransitionGraph } | undefined;
  /** Slot tables: per block keys and values `[C, L, d]`, session vectors `[C, d]`, readout logits `[C, L]`. */
  private keys: tf.Tensor3D[];
  private values: tf.Tensor3D[];
  private hidden: tf.Tensor2D;
  private logits: tf.Tensor2D | undefined;

  constructor(readonly params: TransformerParams, options: TransformerScorerOptions = {}) {
    const c = params.config, d = params.hiddenSize;
    // The output table (unit rows under cosine scoring, config cosineTemperature) and bias: resident on the backend
    // for exact scores, on the host for the ANN path's graph and re-scoring.
    super(new SessionSlots({ ...options, maxSlots: options.maxSlots ?? TRANSFORMER_MAX_SLOTS }), new ItemScoringTable(
      { vectors: c.cosineTemperature > 0 ? unitRows(params.itemTable, d) : params.itemTable.slice(), bias: params.outputBias.slice(), itemCount: params.itemCount, dims: d },
      { ...options, scoring: options.scoring ?? 'exact' }));
    this.useCache = options.cache ?? true;
    this.dense = uploadDense(params);
    this.itemRows = tf.tensor2d(params.itemTable.slice(), [params.itemCount, d]);
    this.repeatBias = params.repeatBias()?.slice();
    const prior = params.transitionPrior();
    if (c.transitionPrior && !prior) throw new ModelFormatError('this transformer has transitionPrior but no transition graph: train it with trainTransformer or load it from its directory');
    this.transitionPrior = prior ? { weight: prior.weight.slice(), graph: prior.graph } : undefined;
    const C = this.slots.capacity, L = c.maxLength;
    this.keys = Array.from({ length: c.blocks }, () => tf.zeros([C, L, d]));
    this.values = Array.from({ length: c.blocks }, () => tf.zeros([C, L, d]));
    this.hidden = tf.zeros([C, d]);
    this.logits = c.readout !== 'last' ? tf.zeros([C, L]) : undefined;
  }

  /**
   * The sessions' state, read once (for tests and tools): window lengths, session vectors `[B, d]` and per block
   * keys and values `[B, maxLength, d]` (zero past each window).
   */
  async readState(sessions: readonly SessionState[]): Promise<{ lengths: number[]; hidden: Float32Array; keys: Float32Array[]; values: Float32Array[] }> {
    this.checkOpen();
    const { rows, present } = this.rowsOf(sessions);
    const c = this.params.config, d = c.hiddenSize, L = c.maxLength, B = sessions.length;
    const lengths = sessions.map((s) => (s.modelState as SessionSlot | undefined)?.length ?? 0);
    const valid = new Float32Array(B * L);
    lengths.forEach((n, b) => valid.fill(1, b * L, b * L + n));
    const all = await readAsync(() => {
      const at = tf.tensor1d(rows, 'int32');
      const window = (t: tf.Tensor3D) => tf.reshape(tf.mul(tf.gather(t, at), tf.tensor3d(valid, [B, L, 1])), [-1]);
      return tf.concat([tf.reshape(tf.mul(tf.gather(this.hidden, at), tf.tensor2d(present, [B, 1])), [-1]), ...this.keys.map(window), ...this.values.map(window)]);
    });
    const part = (i: number) => all.slice(B * d + i * B * L * d, B * d + (i + 1) * B * L * d);
    return { lengths, hidden: all.slice(0, B * d), keys: this.keys.map((_, i) => part(i)), values: this.values.map((_, i) => part(c.blocks + i)) };
  }

  protected queries(sessions: readonly SessionState[]): () => tf.Tensor2D {
    const { rows, present } = this.rowsOf(sessions);
    return () => this.queryRows(rows, present);
  }

  /**
   * Query vectors `[rows, d]` of the session vectors in slot `rows` (`present` 0: a session without items, zero
   * vector), scaled to length 1/τ under cosine scoring: `query · outputRow + bias` is the score.
   */
  private queryRows(rows: Int32Array, present: Float32Array): tf.Tensor2D {
    const tau = this.params.config.cosineTemperature;
    let h = tf.gather(this.hidden, tf.tensor1d(rows, 'int32')) as tf.Tensor2D;
    if (present.some((v) => v === 0)) h = tf.mul(h, tf.tensor2d(present, [rows.length, 1]));
    return tau > 0 ? normalizeRows(h, 1 / tau) : h;
  }

  /** Slot rows of the sessions (rebuilding, without a read, those with items but no valid slot). */
  private rowsOf(sessions: readonly SessionState[]): { rows: Int32Array; present: Float32Array } {
    this.advance(sessions, true);
    const rows = new Int32Array(sessions.length);
    const present = new Float32Array(sessions.length);
    sessions.forEach((s, b) => {
      const slot = this.slots.use(s);
      if (slot) { rows[b] = slot.index; present[b] = 1; }
    });
    return { rows, present };
  }

  /**
   * Sparse additions to the score rows: the repeat bias (config `repeatBias`) on the items of each session's
   * window, by recency, and the transition prior (config `transitionPrior`): the items that followed the newest
   * item in the training sessions get the weight of its window position × log(1 + count).
   */
  protected additions(sessions: readonly SessionState[]): ScoreAdditions {
    const repeat = this.repeatBias, prior = this.transitionPrior;
    if (!repeat && !prior) return { rows: new Int32Array(0), items: new Int32Array(0), values: new Float32Array(0) };
    const L = this.params.config.maxLength;
    const rows: number[] = [], items: number[] = [], values: number[] = [];
    sessions.forEach((s, b) => {
      const add = new Map<number, number>();
      const n = Math.min(L, s.items.length);
      if (repeat) forEachRecentItem(s.items, 0, s.items.length - 1, n, (it, k) => add.set(it, repeat[k]!));
      if (prior && n > 0) {
        const { offsets, targets, counts } = prior.graph;
        const a = s.items[s.items.length - 1]!;
        const w = prior.weight[n - 1]!;
        for (let e = offsets[a]!; e < offsets[a + 1]!; e++) add.set(targets[e]!, (add.get(targets[e]!) ?? 0) + w * transitionFeature(counts[e]!));
      }
      for (const [it, v] of add) { rows.push(b); items.push(it); values.push(v); }
    });
    return { rows: Int32Array.from(rows), items: Int32Array.from(items), values: Float32Array.from(values) };
  }

  /**
   * One batched pass on the backend. Sessions without items lose their slot. Sessions with a valid slot and a
   * window that is not full take one KV-cache step (`onlyMissing`: nothing); the others (no valid slot, a full
   * window, or no cache) are recomputed over their window. The results are scattered into the slot tables.
   */
  protected advance(sessions: readonly SessionState[], onlyMissing: boolean): void {
    const L = this.params.config.maxLength;
    const keep = new Set<SessionSlot>();
    const rebuild: SessionState[] = [];
    const step: SessionState[] = [];
    const seen = new Set<SessionState>();
    for (const s of sessions) {
      if (seen.has(s)) continue;
      seen.add(s);
      if (s.items.length === 0) {
        if (!onlyMissing) this.slots.release(s);
        continue;
      }
      const slot = this.slots.use(s);
      if (slot) keep.add(slot);
      if (slot && onlyMissing) continue;
      if (slot && this.useCache && slot.length < L) step.push(s);
      else rebuild.push(s);
    }
    const fresh = rebuild.filter((s) => !this.slots.use(s));
    this.slots.acquire(fresh, keep);
    this.growTables();
    if (rebuild.length > 0) this.recompute(rebuild);
    if (step.length > 0) this.stepOne(step);
  }

  /** Full forward over each session's last maxLength items (forward.ts, no dropout) into its slot. */
  private recompute(sessions: readonly SessionState[]): void {
    const p = this.params, c = p.config, d = c.hiddenSize, L = c.maxLength;
    const windows = sessions.map((s) => s.items.slice(-L));
    const lengths = windows.map((w) => w.length);
    const T = Math.max(...lengths);
    const B = windows.length;
    const slots = sessions.map((s) => s.modelState as SessionSlot);
    const buckets = c.timeBuckets > 0 ? new Int32Array(B * T) : undefined;
    if (buckets) sessions.forEach((s, b) => { windowGaps(s, lengths[b]!).forEach((g, t) => { buckets[b * T + t] = timeBucket(g, c.timeBuckets); }); });
    const ids = new Int32Array(B * T);
    const real = new Float32Array(B * T);
    windows.forEach((w, b) => w.forEach((item, t) => { ids[b * T + t] = item; real[b * T + t] = 1; }));
    const newest = Int32Array.from(lengths, (n, b) => b * T + n - 1);
    const readout = c.readout !== 'last';
    const slotIndex = Int32Array.from(slots, (sl) => sl.index);
    // Whole windows: one row per slot of the key/value/logit tables.
    this.write(slotIndex, slotIndex, () => {
      // Padding rows are zero (causality keeps them out of the real positions either way).
      const rows = tf.mul(tf.gather(this.itemRows, tf.tensor1d(ids, 'int32')), tf.tensor2d(real, [B * T, 1])) as tf.Tensor2D;
      const enc = encode(this.dense, c, embed(this.dense, rows, windowPositions(lengths, T), buckets), windowAttention(c, B, T));
      const out = readout ? windowReadout(this.dense, enc.hidden, rows, B, T) : enc.hidden;
      const pad = (t: tf.Tensor2D) => tf.pad(tf.reshape(t, [B, T, d]), [[0, 0], [0, L - T], [0, 0]]) as tf.Tensor3D;
      return {
        hidden: tf.gather(out, tf.tensor1d(newest, 'int32')),
        keys: enc.keys.map(pad),
        values: enc.values.map(pad),
        logits: readout ? tf.pad(tf.reshape(readoutLogits(enc.hidden, this.dense.get('readout_v')!), [B, T]), [[0, 0], [0, L - T]]) : undefined,
      };
    });
    slots.forEach((sl, b) => { sl.length = lengths[b]!; });
  }

  /**
   * One new position per session: the same embedding, blocks and readout as training, with each block's
   * attention taking the session's cached keys and values plus the new position's own, and the readout its
   * cached logits plus the new one.
   */
  private stepOne(sessions: readonly SessionState[]): void {
    const p = this.params, c = p.config, d = c.hiddenSize;
    const B = sessions.length;
    const slots = sessions.map((s) => s.modelState as SessionSlot);
    const lengths = slots.map((sl) => sl.length + 1);
    const Tk = Math.max(...lengths);
    const positions = Int32Array.from(slots, (sl) => sl.length);
    const buckets = c.timeBuckets > 0 ? Int32Array.from(sessions, (s) => timeBucket(s.items.length > 1 ? gapAt(s, s.items.length - 1) : undefined, c.timeBuckets)) : undefined;
    const slot = new Float32Array(B * Tk);
    slots.forEach((sl, b) => { slot[b * Tk + sl.length] = 1; });
    const readout = c.readout !== 'last';
    const windowIds = new Int32Array(B * Tk);
    if (readout) sessions.forEach((s, b) => { s.items.slice(-lengths[b]!).forEach((item, t) => { windowIds[b * Tk + t] = item; }); });
    const index = Int32Array.from(slots, (sl) => sl.index);
    // Rows `slot·L + t` (t < Tk) of the tables seen as `[C·L, ·]`: only the positions this step attends to are
    // gathered (TF.js wasm gathers element by element, so the volume matters there).
    const L = c.maxLength, C = this.hidden.shape[0];
    const windowRowIds = new Int32Array(B * Tk);
    slots.forEach((sl, b) => { for (let t = 0; t < Tk; t++) windowRowIds[b * Tk + t] = sl.index * L + t; });
    // The new position: row `slot·L + position` of the key/value/logit tables.
    const newRows = Int32Array.from(slots, (sl) => sl.index * L + sl.length);
    this.write(index, newRows, () => {
      const windowAt = tf.tensor1d(windowRowIds, 'int32');
      const slotT = tf.tensor3d(slot, [B, Tk, 1]);
      const keepT = tf.sub(1, slotT);
      const mask = lengthMask(lengths, Tk);
      const cachedWindow = (t: tf.Tensor3D) => tf.reshape(tf.gather(tf.reshape(t, [C * L, d]), windowAt), [B, Tk, d]) as tf.Tensor3D;
      // The cached rows with the new position's row written at its slot.
      const withNew = (old: tf.Tensor3D, row: tf.Tensor2D) => tf.reshape(tf.add(tf.mul(cachedWindow(old), keepT), tf.mul(slotT, tf.reshape(row, [B, 1, d]))), [B * Tk, d]) as tf.Tensor2D;
      const attend: Attend = (block, q, k, v) => multiHeadAttention(q, withNew(this.keys[block]!, k), withNew(this.values[block]!, v), { B, Tq: 1, Tk, heads: c.heads }, mask);
      const rows = tf.gather(this.itemRows, tf.tensor1d(Int32Array.from(sessions, (s) => s.items[s.items.length - 1]!), 'int32')) as tf.Tensor2D;
      const enc = encode(this.dense, c, embed(this.dense, rows, positions, buckets), attend);
      let hidden: tf.Tensor2D = enc.hidden;
      let logits: tf.Tensor | undefined;
      if (readout) {
        const logit = readoutLogits(enc.hidden, this.dense.get('readout_v')!);
        const slot2 = tf.reshape(slotT, [B, Tk]);
        const cachedLogits = tf.reshape(tf.gather(tf.reshape(this.logits!, [C * L]), windowAt), [B, Tk]);
        const all = tf.add(tf.mul(cachedLogits, tf.sub(1, slot2)), tf.mul(slot2, tf.reshape(logit, [B, 1]))) as tf.Tensor2D;
        const windowRows = tf.reshape(tf.gather(this.itemRows, tf.tensor1d(windowIds, 'int32')), [B, Tk, d]) as tf.Tensor3D;
        hidden = tf.reshape(itemAttention(all, windowRows, mask), [B, d]) as tf.Tensor2D;
        logits = logit;
      }
      return { hidden, keys: enc.keys, values: enc.values, logits };
    });
    slots.forEach((sl) => { sl.length++; });
  }

  /**
   * Runs `fn` in a tidy for the new rows, then writes them into the slot tables (in place where the backend
   * allows, {@link writeRows}): the session vectors at `hiddenRows`, and each block's keys and values and the
   * readout logits at `windowRows` (a table seen as rows of what `fn` gives per row: whole windows or one position).
   */
  private write(hiddenRows: Int32Array, windowRows: Int32Array, fn: () => { hidden: tf.Tensor; keys: tf.Tensor[]; values: tf.Tensor[]; logits: tf.Tensor | undefined }): void {
    const rows = tf.tidy(() => {
      const r = fn();
      return [r.hidden, ...r.keys, ...r.values, ...(r.logits ? [r.logits] : [])];
    });
    const blocks = this.keys.length;
    this.hidden = writeRows(this.hidden, hiddenRows, rows[0]!);
    this.keys = this.keys.map((t, i) => writeRows(t, windowRows, rows[1 + i]!));
    this.values = this.values.map((t, i) => writeRows(t, windowRows, rows[1 + blocks + i]!));
    if (this.logits) this.logits = writeRows(this.logits, windowRows, rows[1 + 2 * blocks]!);
    tf.dispose(rows);
  }

  /** Grows the slot tables to the slots' capacity (new rows zero). */
  private growTables(): void {
    const C = this.slots.capacity;
    this.hidden = growRows(this.hidden, C);
    this.keys = this.keys.map((t) => growRows(t, C));
    this.values = this.values.map((t) => growRows(t, C));
    if (this.logits) this.logits = growRows(this.logits, C);
  }

  protected stateTensors(): tf.Tensor[] {
    return [...this.dense.values(), this.itemRows, this.hidden, ...this.keys, ...this.values, ...(this.logits ? [this.logits] : [])];
  }
}

/** Time since the previous event (ms) of `items[k]`, when the session has times for both. */
function gapAt(s: SessionState, k: number): number | undefined {
  const a = s.times[k - 1], b = s.times[k];
  return a === undefined || b === undefined ? undefined : b - a;
}

/** Gaps for the last `n` items of a session (undefined where there is no previous event or no times). */
function windowGaps(s: SessionState, n: number): (number | undefined)[] {
  const start = s.items.length - n;
  return Array.from({ length: n }, (_, t) => (start + t > 0 ? gapAt(s, start + t) : undefined));
}

/** Rows of `table` `[n, d]` scaled to unit length on the host, with {@link normalizeRows}' norm floor. */
function unitRows(table: Float32Array, d: number): Float32Array {
  const out = new Float32Array(table.length);
  for (let base = 0; base < table.length; base += d) {
    let ss = 0;
    for (let t = 0; t < d; t++) ss += table[base + t]! * table[base + t]!;
    const inv = 1 / Math.sqrt(Math.max(ss, MIN_NORM * MIN_NORM));
    for (let t = 0; t < d; t++) out[base + t] = table[base + t]! * inv;
  }
  return out;
}
