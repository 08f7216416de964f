import { tf } from '../../src/backend/tf.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { timeBucket } from './config.js';
import { embedWindows, layerNorm, readSequence, uploadDense } from './forward.js';
import type { TransformerParams } from './params.js';
import { transitionFeature, type TransitionGraph } from './transitions.js';
import { ModelFormatError } from '../../src/errors.js';
import { normalizeRows } from './cosine.js';
import { assertSyncReads, backendReadsSync, readAsync, readSync, runReads, type ReadingComputation } from '../training/matmul.js';
import { addRowTimes, dotAt, sessionMapForward, weightsInto, type ReadoutQuery } from './readout.js';

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
    /** Query-attention readout: the outputs h_j `[maxLength, d]` the newest position's query scores. */
    readonly readoutKeys?: Float32Array,
  ) {}
}

/**
 * Streaming inference for the next-item transformer. With the cache, an event appended to a session whose
 * window is not full costs one position per block (its query attends over the cached keys/values). Positions
 * count from the window's first item, so when a session grows past `maxLength` the window slides and every
 * cached key changes position: such sessions (and sessions without state) are recomputed over their last
 * `maxLength` items in one batched pass. On Diginetica 99% of sessions never slide (maxLength 20).
 */
export class TransformerScorer implements Scorer {
  readonly name = 'transformer';
  readonly itemCount: number;
  readonly useCache: boolean;
  private readonly dense: Map<string, tf.Tensor>;
  private readonly outputTableT: tf.Tensor2D;
  private readonly outputBias: tf.Tensor1D;
  private readonly readoutV: Float32Array | undefined;
  private readonly readoutQuery: ReadoutQuery | undefined;
  private readonly readoutResidual: Float32Array | undefined;
  private readonly sessionMap: Float32Array | undefined;
  private readonly repeatBias: Float32Array | undefined;
  private readonly transitionPrior: { weight: Float32Array; graph: TransitionGraph } | undefined;
  private disposed = false;

  constructor(readonly params: TransformerParams, options: TransformerScorerOptions = {}) {
    this.itemCount = params.itemCount;
    this.useCache = options.cache ?? true;
    const d = params.hiddenSize;
    this.dense = uploadDense(params);
    // [d, N]: a matMul with a transposed operand is much slower on wasm.
    // Cosine scoring (config cosineTemperature) ranks against unit item rows.
    const table = params.config.cosineTemperature > 0 ? normalizeRows(params.outTable, params.itemCount, d).normalized : params.outTable;
    this.outputTableT = tf.tidy(() => tf.transpose(tf.tensor2d(table, [params.itemCount, d])));
    this.outputBias = tf.tensor1d(params.outputBias.slice());
    this.readoutV = params.config.readout !== 'last' ? params.get('readout_v').slice() : undefined;
    const query = params.readoutQuery();
    this.readoutQuery = query ? { w: query.w.slice(), r: query.r.slice() } : undefined;
    this.readoutResidual = params.readoutResidual()?.slice();
    this.sessionMap = params.sessionMap()?.slice();
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
    let h: Float32Array = new Float32Array(sessions.length * d);
    sessions.forEach((s, i) => {
      const st = s.modelState;
      if (st instanceof TransformerSessionCache) h.set(st.hidden, i * d);
    });
    // The bilinear session map applies at scoring time only, so cached state stays the readout's output.
    if (this.sessionMap) h = sessionMapForward(h, sessions.length, this.sessionMap, d);
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
    const repeat = this.repeatBias;
    if (!repeat) return scores;
    const N = this.itemCount, L = this.params.config.maxLength;
    sessions.forEach((s, i) => {
      const n = Math.min(L, s.items.length);
      const seen = new Set<number>();
      for (let k = 0; k < n; k++) {
        const it = s.items[s.items.length - 1 - k]!;
        if (seen.has(it)) continue;
        seen.add(it);
        scores[i * N + it] = scores[i * N + it]! + repeat[k]!;
      }
    });
    return scores;
  }

  /** Scores `rows` final hidden vectors `[rows, d]` against every item (backends with sync reads only). */
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
    const h = tau > 0 ? normalizeRows(hidden, rows, d, 1 / tau).normalized : hidden;
    return () => tf.add(tf.matMul(tf.tensor2d(h, [rows, d]), this.outputTableT), this.outputBias);
  }

  /** Full forward over each session's last maxLength items; fills a fresh cache. */
  private *recompute(sessions: readonly SessionState[]): ReadingComputation<void> {
    const p = this.params, c = p.config, d = c.hiddenSize, L = c.maxLength;
    const windows = sessions.map((s) => s.items.slice(-L));
    const gaps = sessions.map((s) => windowGaps(s, Math.min(L, s.items.length)));
    const T = windows.reduce((m, w) => Math.max(m, w.length), 0);
    const B = windows.length;
    const x = embedWindows(p, windows, T, gaps);
    const { hidden, keys, values } = yield* readSequence(this.dense, c, x, B, T);
    sessions.forEach((s, b) => {
      const n = windows[b]!.length;
      const at = b * T * d;
      const st = new TransformerSessionCache(
        n,
        keys.map((k) => { const a = new Float32Array(L * d); a.set(k.subarray(at, at + n * d)); return a; }),
        values.map((v) => { const a = new Float32Array(L * d); a.set(v.subarray(at, at + n * d)); return a; }),
        hidden.slice(at + (n - 1) * d, at + n * d),
        c.readout !== 'last' ? new Float32Array(L) : undefined,
        this.readoutQuery ? new Float32Array(L * d) : undefined,
      );
      st.readoutKeys?.set(hidden.subarray(at, at + n * d));
      if (st.readoutLogits) {
        for (let j = 0; j < n; j++) st.readoutLogits[j] = dotAt(this.readoutV!, 0, hidden, at + j * d, d);
        this.readoutInto(st, windows[b]!, hidden, at + (n - 1) * d);
      }
      s.modelState = st;
    });
  }

  /**
   * One new position per session, attending over its cached keys and values. One read per block gives the
   * residual stream and the new position's q, k, v (the attention itself runs in JavaScript over the cache);
   * the next read finishes the block from there, and the last one gives the final layer norm.
   */
  private *stepOne(sessions: readonly SessionState[]): ReadingComputation<void> {
    const p = this.params, c = p.config, d = c.hiddenSize, H = c.heads, dh = d / H;
    const B = sessions.length;
    const caches = sessions.map((s) => s.modelState as TransformerSessionCache);
    const pos = p.get('position_table');
    const time = c.timeBuckets > 0 ? p.get('time_table') : undefined;
    const x0 = new Float32Array(B * d);
    sessions.forEach((s, b) => {
      const t = caches[b]!.length;
      const item = s.items[s.items.length - 1]!;
      for (let i = 0; i < d; i++) x0[b * d + i] = p.itemTable[item * d + i]! + pos[t * d + i]!;
      if (time) {
        const k = s.items.length - 1;
        const tb = timeBucket(k > 0 ? gapAt(s, k) : undefined, c.timeBuckets) * d;
        for (let i = 0; i < d; i++) x0[b * d + i] = x0[b * d + i]! + time[tb + i]!;
      }
    });
    const scale = 1 / Math.sqrt(dh);
    const scores = new Float32Array(c.maxLength);
    let x: Float32Array = x0;
    let o: Float32Array | undefined; // the previous block's attention output
    for (let blk = 0; blk <= c.blocks; blk++) {
      const xIn = x, oIn = o;
      const read: Float32Array = yield () => {
        let xt: tf.Tensor2D = tf.tensor2d(xIn, [B, d]);
        if (oIn) xt = this.finishBlock(blk - 1, xt, tf.tensor2d(oIn, [B, d]));
        if (blk === c.blocks) return layerNorm(xt, this.dense.get('final_ln_gamma')!, this.dense.get('final_ln_beta')!);
        const g = (n: string) => this.dense.get(`block_${blk}/${n}`)!;
        const a = layerNorm(xt, g('ln1_gamma'), g('ln1_beta'));
        const proj = (w: string, b: string): tf.Tensor2D => tf.add(tf.matMul(a, g(w) as tf.Tensor2D), g(b));
        return tf.concat([xt, proj('wq', 'bq'), proj('wk', 'bk'), proj('wv', 'bv')], 0);
      };
      if (blk === c.blocks) { x = read; break; }
      x = read.subarray(0, B * d);
      const q = read.subarray(B * d, 2 * B * d), k = read.subarray(2 * B * d, 3 * B * d), v = read.subarray(3 * B * d, 4 * B * d);
      const out = new Float32Array(B * d);
      for (let b = 0; b < B; b++) {
        const st = caches[b]!;
        const n = st.length;
        const K = st.keys[blk]!, V = st.values[blk]!;
        K.set(k.subarray(b * d, (b + 1) * d), n * d);
        V.set(v.subarray(b * d, (b + 1) * d), n * d);
        for (let h = 0; h < H; h++) {
          const ho = h * dh;
          let max = -Infinity;
          for (let j = 0; j <= n; j++) {
            let sdot = 0;
            for (let i = 0; i < dh; i++) sdot += q[b * d + ho + i]! * K[j * d + ho + i]!;
            scores[j] = sdot * scale;
            if (scores[j]! > max) max = scores[j]!;
          }
          let sum = 0;
          for (let j = 0; j <= n; j++) { scores[j] = Math.exp(scores[j]! - max); sum += scores[j]!; }
          for (let j = 0; j <= n; j++) {
            const w = scores[j]! / sum;
            for (let i = 0; i < dh; i++) out[b * d + ho + i] = out[b * d + ho + i]! + w * V[j * d + ho + i]!;
          }
        }
      }
      o = out;
    }
    const hidden = x;
    sessions.forEach((s, b) => {
      const st = caches[b]!;
      st.length++;
      st.readoutKeys?.set(hidden.subarray(b * d, (b + 1) * d), (st.length - 1) * d);
      if (st.readoutLogits) {
        st.readoutLogits[st.length - 1] = dotAt(this.readoutV!, 0, hidden, b * d, d);
        this.readoutInto(st, s.items.slice(-st.length), hidden, b * d);
      } else {
        st.hidden.set(hidden.subarray(b * d, (b + 1) * d));
      }
      s.modelState = st;
    });
  }

  /** The rest of block `blk` after attention: output projection and residual, then the feed-forward layer. */
  private finishBlock(blk: number, x: tf.Tensor2D, attention: tf.Tensor2D): tf.Tensor2D {
    const g = (n: string) => this.dense.get(`block_${blk}/${n}`)!;
    const h: tf.Tensor2D = tf.add(x, tf.add(tf.matMul(attention, g('wo') as tf.Tensor2D), g('bo')));
    const f = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(layerNorm(h, g('ln2_gamma'), g('ln2_beta')), g('w1') as tf.Tensor2D), g('b1'))), g('w2') as tf.Tensor2D), g('b2'));
    return tf.add(h, f);
  }

  /**
   * Sets `st.hidden` to the item-attention readout over the window's items (see readout.ts), plus the newest
   * output `out[at ..]` for the `mixed` readout.
   */
  private readoutInto(st: TransformerSessionCache, window: readonly number[], out: Float32Array, at: number): void {
    const d = this.params.hiddenSize, n = st.length, E = this.params.itemTable;
    const w = new Float32Array(n);
    const logits = st.readoutLogits!.slice(0, n);
    if (this.readoutQuery && st.readoutKeys) {
      // The newest position's query against every position's output, plus the bias for its distance.
      const q = new Float32Array(d);
      addRowTimes(out, at, this.readoutQuery.w, d, q, 0, 1 / Math.sqrt(d));
      for (let j = 0; j < n; j++) logits[j] = logits[j]! + this.readoutQuery.r[n - 1 - j]! + dotAt(q, 0, st.readoutKeys, j * d, d);
    }
    weightsInto(logits, 0, n, w, 0);
    st.hidden.fill(0);
    for (let j = 0; j < n; j++) {
      const e = window[j]! * d, a = w[j]!;
      for (let i = 0; i < d; i++) st.hidden[i] = st.hidden[i]! + a * E[e + i]!;
    }
    if (this.readoutResidual) addRowTimes(out, at, this.readoutResidual, d, st.hidden, 0);
    if (this.params.config.readout === 'mixed') for (let i = 0; i < d; i++) st.hidden[i] = st.hidden[i]! + out[at + i]!;
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
