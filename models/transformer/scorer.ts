import { tf } from '../nn/gradients.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { ModelFormatError } from '../../src/errors.js';
import { lengthMask, multiHeadAttention } from '../nn/attention.js';
import { normalizeRows } from '../nn/cosine.js';
import { itemAttention, readoutLogits } from '../nn/readout.js';
import { assertSyncReads, backendReadsSync, readAsync, readSync, runReads, type ReadingComputation } from '../training/tensor-reads.js';
import { timeBucket } from './config.js';
import { embed, encode, gatherWindowRows, uploadDense, windowAttention, windowPositions, windowReadout, type Attend } from './forward.js';
import type { TransformerParams } from './params.js';
import { transitionFeature, type TransitionGraph } from './transitions.js';
import { addRepeatScores } from '../nn/repeat-scores.js';

/** Options for {@link TransformerScorer}. */
export interface TransformerScorerOptions {
  /**
   * Keep each block's keys and values per session so a new event computes one position instead of the
   * whole window. Off: every `observe` recomputes the window (the reference the cache is tested against).
   * @defaultValue true
   */
  readonly cache?: boolean;
}

/** Per-session inference state kept in `SessionState.modelState`. */
export class TransformerSessionCache {
  constructor(
    /** Positions in the window (≤ maxLength). */
    public length: number,
    /** Per block, keys and values `[maxLength, d]`; rows `0..length-1` are valid. */
    readonly keys: Float32Array[],
    readonly values: Float32Array[],
    /** The session vector scored against the items `[d]`: the newest position's output, or the readout. */
    readonly hidden: Float32Array,
    /** Item-attention readout: `v·h_j` per window position (rows `0..length-1` valid). */
    readonly readoutLogits?: Float32Array,
  ) {}
}

/**
 * Streaming inference for the next-item transformer, on forward.ts's layers (the training forward). With the
 * cache, an event appended to a session whose window is not full costs one position per block: its query
 * attends over the cached keys/values plus its own (the same projections and attention as training, one
 * query per session). Positions count from the window's first item, so when a session grows past
 * `maxLength` the window slides and every cached key changes position: such sessions (and sessions without
 * state) are recomputed over their last `maxLength` items in one batched pass. Each pass is one read-back.
 */
export class TransformerScorer implements Scorer {
  readonly name = 'transformer';
  readonly itemCount: number;
  readonly useCache: boolean;
  private readonly dense: Map<string, tf.Tensor>;
  private readonly outputTableT: tf.Tensor2D;
  private readonly outputBias: tf.Tensor1D;
  private readonly repeatBias: Float32Array | undefined;
  private readonly transitionPrior: { weight: Float32Array; graph: TransitionGraph } | undefined;
  private disposed = false;

  constructor(readonly params: TransformerParams, options: TransformerScorerOptions = {}) {
    this.itemCount = params.itemCount;
    this.useCache = options.cache ?? true;
    const d = params.hiddenSize;
    this.dense = uploadDense(params);
    // [d, N]: a matMul with a transposed operand is much slower on wasm. Cosine scoring (config
    // cosineTemperature) ranks against unit item rows.
    this.outputTableT = tf.tidy(() => {
      const table = tf.tensor2d(params.itemTable, [params.itemCount, d]);
      return tf.transpose(params.config.cosineTemperature > 0 ? normalizeRows(table) : table);
    });
    this.outputBias = tf.tensor1d(params.outputBias.slice());
    this.repeatBias = params.repeatBias()?.slice();
    const prior = params.transitionPrior();
    if (params.config.transitionPrior && !prior) throw new ModelFormatError('this transformer has transitionPrior but no transition graph: train it with trainTransformer or load it from its directory');
    this.transitionPrior = prior ? { weight: prior.weight.slice(), graph: prior.graph } : undefined;
  }

  /**
   * Appends each session's newest item to its state. Synchronous on backends that read tensors synchronously
   * (cpu, wasm, tensorflow); a Promise elsewhere (webgpu in Node cannot `dataSync`), which the pipeline awaits.
   */
  observe(sessions: readonly SessionState[]): void | Promise<void> {
    this.checkOpen();
    return runReads(this.computeObserve(sessions));
  }

  private *computeObserve(sessions: readonly SessionState[]): ReadingComputation<void> {
    const L = this.params.config.maxLength;
    const rebuild: SessionState[] = [];
    const step: SessionState[] = [];
    for (const s of sessions) {
      if (s.items.length === 0) { s.modelState = undefined; continue; }
      const st = s.modelState;
      if (this.useCache && st instanceof TransformerSessionCache && st.length < L) step.push(s);
      else rebuild.push(s);
    }
    if (rebuild.length > 0) yield* this.recompute(rebuild);
    if (step.length > 0) yield* this.stepOne(step);
  }

  /** Full score rows; synchronous or a Promise like {@link observe}. */
  score(sessions: readonly SessionState[]): Float32Array | Promise<Float32Array> {
    this.checkOpen();
    const d = this.params.hiddenSize;
    const h = new Float32Array(sessions.length * d);
    sessions.forEach((s, i) => {
      const st = s.modelState;
      if (st instanceof TransformerSessionCache) h.set(st.hidden, i * d);
    });
    if (backendReadsSync()) return this.addTransitionPrior(this.addRepeatBias(this.scoreHidden(h, sessions.length), sessions), sessions);
    return this.scoreHiddenAsync(h, sessions.length).then((rows) => this.addTransitionPrior(this.addRepeatBias(rows, sessions), sessions));
  }

  /**
   * Adds the transition prior (config `transitionPrior`): the items that followed the newest item in the
   * training sessions get the weight of its window position × log(1 + count).
   */
  private addTransitionPrior(scores: Float32Array, sessions: readonly SessionState[]): Float32Array {
    const prior = this.transitionPrior;
    if (!prior) return scores;
    const N = this.itemCount, L = this.params.config.maxLength;
    const { offsets, targets, counts } = prior.graph;
    sessions.forEach((s, i) => {
      if (s.items.length === 0) return;
      const a = s.items[s.items.length - 1]!;
      const w = prior.weight[Math.min(L, s.items.length) - 1]!;
      for (let e = offsets[a]!; e < offsets[a + 1]!; e++) scores[i * N + targets[e]!] = scores[i * N + targets[e]!]! + w * transitionFeature(counts[e]!);
    });
    return scores;
  }

  /** Adds the repeat bias (config `repeatBias`) to the items of each session's window, by recency. */
  private addRepeatBias(scores: Float32Array, sessions: readonly SessionState[]): Float32Array {
    return this.repeatBias ? addRepeatScores(scores, this.itemCount, sessions, this.repeatBias) : scores;
  }

  /** Scores `rows` session vectors `[rows, d]` against every item (backends with sync reads only). */
  scoreHidden(hidden: Float32Array, rows: number): Float32Array {
    assertSyncReads('TransformerScorer.scoreHidden', 'scoreHiddenAsync');
    return readSync(this.scoreRead(hidden, rows));
  }

  /** {@link scoreHidden} read with `await data()`: safe on every backend. */
  scoreHiddenAsync(hidden: Float32Array, rows: number): Promise<Float32Array> {
    return readAsync(this.scoreRead(hidden, rows));
  }

  private scoreRead(hidden: Float32Array, rows: number): () => tf.Tensor {
    const d = this.params.hiddenSize, tau = this.params.config.cosineTemperature;
    return () => {
      const h = tf.tensor2d(hidden, [rows, d]);
      return tf.add(tf.matMul(tau > 0 ? normalizeRows(h, 1 / tau) : h, this.outputTableT), this.outputBias);
    };
  }

  /** Full forward over each session's last maxLength items (forward.ts, no dropout); fills a fresh cache. */
  private *recompute(sessions: readonly SessionState[]): ReadingComputation<void> {
    const p = this.params, c = p.config, d = c.hiddenSize, L = c.maxLength;
    const windows = sessions.map((s) => s.items.slice(-L));
    const lengths = windows.map((w) => w.length);
    const T = Math.max(...lengths);
    const B = windows.length;
    const buckets = c.timeBuckets > 0 ? new Int32Array(B * T) : undefined;
    if (buckets) sessions.forEach((s, b) => { windowGaps(s, lengths[b]!).forEach((g, t) => { buckets[b * T + t] = timeBucket(g, c.timeBuckets); }); });
    const itemRows = gatherWindowRows(p.itemTable, d, windows, T);
    const readout = c.readout !== 'last';
    // One read: [session vectors; keys per block; values per block; readout logits].
    const all: Float32Array = yield () => {
      const rows = tf.tensor2d(itemRows, [B * T, d]);
      const enc = encode(this.dense, c, embed(this.dense, rows, windowPositions(lengths, T), buckets), windowAttention(c, B, T));
      const parts: tf.Tensor[] = [readout ? windowReadout(this.dense, enc.hidden, rows, B, T) : enc.hidden, ...enc.keys, ...enc.values];
      if (readout) parts.push(tf.reshape(readoutLogits(enc.hidden, this.dense.get('readout_v')!), [B * T, 1]));
      return tf.concat(parts.map((t) => tf.reshape(t, [-1])));
    };
    const part = B * T * d;
    const slab = (i: number) => all.subarray(i * part, (i + 1) * part);
    const logits = readout ? slab(1 + 2 * c.blocks).subarray(0, B * T) : undefined;
    sessions.forEach((s, b) => {
      const n = lengths[b]!;
      const at = b * T * d;
      const cacheOf = (block: Float32Array) => { const a = new Float32Array(L * d); a.set(block.subarray(at, at + n * d)); return a; };
      const st = new TransformerSessionCache(
        n,
        Array.from({ length: c.blocks }, (_, i) => cacheOf(slab(1 + i))),
        Array.from({ length: c.blocks }, (_, i) => cacheOf(slab(1 + c.blocks + i))),
        slab(0).slice(at + (n - 1) * d, at + n * d),
        logits ? new Float32Array(L) : undefined,
      );
      if (logits) st.readoutLogits!.set(logits.subarray(b * T, b * T + n));
      s.modelState = st;
    });
  }

  /**
   * One new position per session, in one read: the same embedding, blocks and readout as training, with each
   * block's attention taking the session's cached keys and values plus the new position's own, and the
   * readout its cached logits plus the new one.
   */
  private *stepOne(sessions: readonly SessionState[]): ReadingComputation<void> {
    const p = this.params, c = p.config, d = c.hiddenSize;
    const B = sessions.length;
    const caches = sessions.map((s) => s.modelState as TransformerSessionCache);
    const lengths = caches.map((st) => st.length + 1);
    const Tk = Math.max(...lengths);
    // The newest items' rows: one window of B positions.
    const newestRows = gatherWindowRows(p.itemTable, d, [Int32Array.from(sessions, (s) => s.items[s.items.length - 1]!)], B);
    const positions = Int32Array.from(caches, (st) => st.length);
    const buckets = c.timeBuckets > 0 ? Int32Array.from(sessions, (s) => timeBucket(s.items.length > 1 ? gapAt(s, s.items.length - 1) : undefined, c.timeBuckets)) : undefined;
    // Cached keys and values per block `[B, Tk, d]` (zero at the new slot), the new slot as a one-hot.
    const cached = (pick: (st: TransformerSessionCache) => Float32Array) => {
      const a = new Float32Array(B * Tk * d);
      caches.forEach((st, b) => a.set(pick(st).subarray(0, st.length * d), b * Tk * d));
      return a;
    };
    const keys = Array.from({ length: c.blocks }, (_, i) => cached((st) => st.keys[i]!));
    const values = Array.from({ length: c.blocks }, (_, i) => cached((st) => st.values[i]!));
    const slot = new Float32Array(B * Tk);
    caches.forEach((st, b) => { slot[b * Tk + st.length] = 1; });
    const readout = c.readout !== 'last';
    const windowRows = readout ? gatherWindowRows(p.itemTable, d, sessions.map((s, b) => s.items.slice(-lengths[b]!)), Tk) : undefined;
    const cachedLogits = readout ? new Float32Array(B * Tk) : undefined;
    if (cachedLogits) caches.forEach((st, b) => cachedLogits.set(st.readoutLogits!.subarray(0, st.length), b * Tk));
    // One read: [session vectors; new keys per block; new values per block; new readout logits].
    const read: Float32Array = yield () => {
      const slotT = tf.tensor3d(slot, [B, Tk, 1]);
      const mask = lengthMask(lengths, Tk);
      const withNew = (old: Float32Array, row: tf.Tensor2D) => tf.reshape(tf.add(tf.tensor3d(old, [B, Tk, d]), tf.mul(slotT, tf.reshape(row, [B, 1, d]))), [B * Tk, d]) as tf.Tensor2D;
      const attend: Attend = (block, q, k, v) => multiHeadAttention(q, withNew(keys[block]!, k), withNew(values[block]!, v), { B, Tq: 1, Tk, heads: c.heads }, mask);
      const rows = tf.tensor2d(newestRows, [B, d]);
      const enc = encode(this.dense, c, embed(this.dense, rows, positions, buckets), attend);
      const parts: tf.Tensor[] = [];
      if (readout && windowRows && cachedLogits) {
        const logit = readoutLogits(enc.hidden, this.dense.get('readout_v')!);
        const all = tf.add(tf.tensor2d(cachedLogits, [B, Tk]), tf.mul(tf.reshape(slotT, [B, Tk]), tf.reshape(logit, [B, 1]))) as tf.Tensor2D;
        parts.push(itemAttention(all, tf.tensor3d(windowRows, [B, Tk, d]), mask), ...enc.keys, ...enc.values, logit);
      } else {
        parts.push(enc.hidden, ...enc.keys, ...enc.values);
      }
      return tf.concat(parts.map((t) => tf.reshape(t, [-1])));
    };
    const slab = (i: number) => read.subarray(i * B * d, (i + 1) * B * d);
    const logits = readout ? slab(1 + 2 * c.blocks).subarray(0, B) : undefined;
    sessions.forEach((s, b) => {
      const st = caches[b]!;
      for (let i = 0; i < c.blocks; i++) {
        st.keys[i]!.set(slab(1 + i).subarray(b * d, (b + 1) * d), st.length * d);
        st.values[i]!.set(slab(1 + c.blocks + i).subarray(b * d, (b + 1) * d), st.length * d);
      }
      if (logits) st.readoutLogits![st.length] = logits[b]!;
      st.hidden.set(slab(0).subarray(b * d, (b + 1) * d));
      st.length++;
      s.modelState = st;
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.dense.values(), this.outputTableT, this.outputBias]);
  }

  private checkOpen(): void {
    if (this.disposed) throw new Error('TransformerScorer is disposed');
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
