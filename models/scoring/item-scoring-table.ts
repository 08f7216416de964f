import { existsSync } from 'node:fs';
import { InvalidOptionError } from '../../src/errors.js';
import { tf } from '../../src/backend/tf.js';
import { exactTopKLoop, resolveFilter, TopKHeap, topKOfCandidates, type DenseItemTable, type ResolvedFilter } from '../../src/scoring/dense-top-k.js';
import type { Recommendation } from '../../src/scoring/scorer.js';
import { topK, type ItemFilter } from '../../src/scoring/top-k.js';
import { runReadsSync, type ReadingComputation } from '../training/tensor-reads.js';
import { AnnIndex, annIndexDefaults, type AnnIndexOptions } from './ann-index.js';
import { BackendTopK } from './backend-top-k.js';

/** How {@link ItemScoringTable.scoreTopK} finds the top items. */
export type ScoringMode = 'exact' | 'ann' | 'auto';

/** Options of {@link ItemScoringTable}. */
export interface ItemScoringTableOptions extends AnnIndexOptions {
  /**
   * `exact` scores every item; `ann` takes `candidates` items per query from an HNSW index and re-scores them
   * exactly; `auto` uses `ann` from `annMinItems` items up. @defaultValue 'auto'
   */
  readonly scoring?: ScoringMode;
  /** Catalog size from which `auto` switches to ANN. @defaultValue 20_000 */
  readonly annMinItems?: number;
  /**
   * ANN candidates re-scored per query (≥ k; more = better recall, slower; also the HNSW search breadth). On a
   * one-epoch Diginetica GRU4Rec (43k items, d = 100, graph efConstruction 200) recall@20 was 0.981 / 0.990 at
   * 50 / 100, for 78 / 133 µs of CPU per query against ~300 µs for exact scoring on native TensorFlow
   * (bench/ann-recall.mjs). @defaultValue 50
   */
  readonly candidates?: number;
  /**
   * Exact path: `tfjs` (one matMul on the active TF.js backend, then the top-k selection with the filters, see
   * `select`) or `loop` (fused TypedArray loop on the host; only competitive for tiny catalogs). @defaultValue 'tfjs'
   */
  readonly exact?: 'tfjs' | 'loop';
  /**
   * Where the exact `tfjs` path picks the top k: `backend` (allow list as a mask, exclusions over-fetched or
   * scattered to -Infinity, `tf.topk`; one read of k ids and scores per row) or `host` (one read of the
   * `[rows, itemCount]` scores, then a bounded heap per row). Either way a micro-batch reads back once. `auto`:
   * `backend`, except on the cpu backend, whose `TopK` kernel builds one JavaScript object per score. On wasm
   * (43k items, d = 100, batch 256) `backend` measured 1,434 events per CPU second against 770–1,062 for `host`,
   * whose read copies 44 MB of scores (docs/experiments/speed.md). @defaultValue 'auto'
   */
  readonly select?: TopKSelect;
  /** Load the ANN graph from this file if it exists; otherwise build it and write it here. */
  readonly indexFile?: string;
}

export const itemScoringTableDefaults = {
  scoring: 'auto',
  annMinItems: 20_000,
  candidates: 50,
  exact: 'tfjs',
  select: 'auto',
  ...annIndexDefaults,
} as const satisfies Required<Omit<ItemScoringTableOptions, 'indexFile'>>;

/**
 * Items per block of the resident table on wasm. XNNPACK streams a product's whole right operand once per few
 * query rows, so a 43k-item table (17 MB at d 100) crosses the memory bus about 64 times for 256 queries; in
 * blocks that stay in cache the products of one batch took 92 ms instead of 167–205 ms (tmp measurement, d 100,
 * 256 queries, load ≈ 1), and with the concatenation, the bias and the top 20, see BENCHMARKS.md "Model engines".
 * Other backends multiply the whole table at once.
 */
const WASM_SCORE_BLOCK = 4096;

/**
 * Sparse additions to score rows (a model's repeat bias, transition prior): row `rows[i]`, item `items[i]` gets
 * `values[i]` added; at most one entry per (row, item).
 */
export interface ScoreAdditions {
  readonly rows: Int32Array;
  readonly items: Int32Array;
  readonly values: Float32Array;
}

/** `scores` `[rows, itemCount]` plus the additions, on the backend (inside `tf.tidy`). */
export function addScoreAdditions(scores: tf.Tensor2D, a: ScoreAdditions | undefined): tf.Tensor2D {
  if (!a || a.rows.length === 0) return scores;
  const at = tf.stack([tf.tensor1d(a.rows, 'int32'), tf.tensor1d(a.items, 'int32')], 1) as tf.Tensor2D;
  return tf.tensorScatterUpdate(scores, at, tf.add(tf.gatherND(scores, at), tf.tensor1d(a.values))) as tf.Tensor2D;
}

/** Where the exact path selects the top k (option `select`). */
export type TopKSelect = 'backend' | 'host' | 'auto';

/** Backends where `auto` selects on the host (see `select`). */
const hostSelectBackends: ReadonlySet<string> = new Set(['cpu']);

/** `select` with `auto` resolved for the active backend. */
export function resolveSelect(select: TopKSelect): 'backend' | 'host' {
  if (select !== 'auto') return select;
  return hostSelectBackends.has(tf.getBackend()) ? 'host' : 'backend';
}

/**
 * Fast top-k over an item table for serving: `score = h·w_i + b_i` for every item i, top k per query with
 * filters, ties to the lower index (the order {@link topK} uses). The exact path computes all scores with one
 * matMul on the TF.js backend and selects the top k there or on the host (option `select`); the ANN path asks an
 * HNSW graph ({@link AnnIndex}) for candidates and re-scores only those on the host. Every path reads back from
 * the backend once per call: the selection (exact) or the query vectors (ANN, `loop`), see {@link topKOf}.
 */
export class ItemScoringTable {
  readonly itemCount: number;
  readonly dims: number;
  /** The path `scoreTopK` takes (`auto` resolved). */
  readonly mode: 'exact' | 'ann';
  readonly candidates: number;
  private readonly table: DenseItemTable;
  private readonly exactPath: 'tfjs' | 'loop';
  private readonly selectOption: TopKSelect;
  private readonly ann: AnnIndex | undefined;
  private readonly backendTopK: BackendTopK;
  /** The table on the backend, transposed (`[dims, items]` blocks: a product with a transposed operand is far slower on wasm). */
  private tableT: tf.Tensor2D[] | undefined;
  private biasT: tf.Tensor1D | undefined;
  private heap: TopKHeap | undefined;
  private allowed: { set: ReadonlySet<number>; items: Int32Array } | undefined;

  /**
   * `table.vectors` is `[itemCount, dims]` row-major and is kept by reference (do not mutate it). Building the
   * ANN graph is synchronous and takes seconds to minutes; persist it with `indexFile`.
   */
  constructor(table: DenseItemTable, options: ItemScoringTableOptions = {}) {
    const o = { ...itemScoringTableDefaults, ...stripUndefined(options) };
    if (!['exact', 'ann', 'auto'].includes(o.scoring)) throw new InvalidOptionError('scoring', `scoring must be 'exact', 'ann' or 'auto', got ${String(o.scoring)}`);
    if (!['tfjs', 'loop'].includes(o.exact)) throw new InvalidOptionError('exact', `exact must be 'tfjs' or 'loop', got ${String(o.exact)}`);
    if (!['backend', 'host', 'auto'].includes(o.select)) throw new InvalidOptionError('select', `select must be 'backend', 'host' or 'auto', got ${String(o.select)}`);
    for (const key of ['annMinItems', 'candidates', 'connectivity', 'expansionAdd', 'expansionSearch'] as const) {
      const v = o[key];
      const min = key === 'annMinItems' ? 0 : 1;
      if (!Number.isInteger(v) || v < min) throw new InvalidOptionError(key, `${key} must be an integer ≥ ${min}, got ${String(v)}`);
    }
    if (table.vectors.length !== table.itemCount * table.dims) throw new InvalidOptionError('table', `table.vectors has ${table.vectors.length} floats, expected itemCount × dims = ${table.itemCount * table.dims}`);
    if (table.bias && table.bias.length !== table.itemCount) throw new InvalidOptionError('table', `table.bias has ${table.bias.length} entries, expected ${table.itemCount}`);
    this.table = table;
    this.itemCount = table.itemCount;
    this.dims = table.dims;
    this.candidates = o.candidates;
    this.exactPath = o.exact;
    this.selectOption = o.select;
    this.backendTopK = new BackendTopK(table.itemCount);
    this.mode = o.scoring === 'auto' ? (table.itemCount >= o.annMinItems ? 'ann' : 'exact') : o.scoring;
    // Exact scoring always needs the table on the backend: upload it now, not inside the first request.
    if (this.mode === 'exact' && this.exactPath === 'tfjs') this.residentTable();
    if (this.mode === 'ann') {
      const persisted = o.indexFile !== undefined && existsSync(o.indexFile);
      this.ann = AnnIndex.build(table, o, o.indexFile);
      if (o.indexFile !== undefined && !persisted) {
        // A read-only model directory only costs the next load a rebuild.
        try {
          this.ann.save(o.indexFile);
        } catch (err) {
          process.emitWarning(`nextclick: could not save the ANN index to ${o.indexFile} (${(err as Error).message}); it will be rebuilt on the next load`);
        }
      }
    }
  }

  /** Where the exact `tfjs` path selects on the active backend (option `select`, `auto` resolved). */
  get select(): 'backend' | 'host' {
    return resolveSelect(this.selectOption);
  }

  /**
   * Top `k` items for each of `batch` host queries `hidden[b * dims .. (b + 1) * dims)`; `filters` is one filter
   * for all rows or one per row. Reads synchronously (backends with sync reads, or the ANN / `loop` paths,
   * which use no backend). On the ANN path, a row with an allow list is scored exactly over
   * the allowed items, and a row whose exclusions leave fewer than `k` candidates falls back to exact scoring of
   * every item, both on the host.
   */
  scoreTopK(hidden: Float32Array, batch: number, k: number, filters?: ItemFilter | readonly (ItemFilter | undefined)[]): Recommendation[] {
    const rows = Array.from({ length: batch }, (_, b) => (Array.isArray(filters) ? filters[b] : (filters as ItemFilter | undefined)));
    if (this.mode === 'ann' || this.exactPath === 'loop') return this.hostTopK(hidden, batch, k, rows);
    return runReadsSync(this.topKOf(() => tf.tensor2d(hidden.subarray(0, batch * this.dims), [batch, this.dims]), batch, k, rows));
  }

  /**
   * Top `k` per row of the query vectors `hidden()` builds on the backend (`[rows, dims]`, inside `tf.tidy`), as
   * a computation with exactly one read: the exact selection (`select`), or the query vectors for the ANN and
   * `loop` paths, which then run on the host. Drive it with `runReads*` (tensor-reads.ts). `additions` (e.g. a
   * repeat bias) are added to the scores before the selection: on the backend for the exact path; on the host
   * paths the plain top `k + most additions of a row` is re-ranked with them (exact whenever that list is).
   */
  *topKOf(hidden: () => tf.Tensor2D, rows: number, k: number, filters: readonly (ItemFilter | undefined)[], additions?: ScoreAdditions): ReadingComputation<Recommendation[]> {
    if (rows === 0) return [];
    filters = Array.from({ length: rows }, (_, b) => filters[b]);
    const added = additions && additions.rows.length > 0 ? additions : undefined;
    if (this.mode === 'ann' || this.exactPath === 'loop') {
      const h: Float32Array = yield hidden;
      if (!added) return this.hostTopK(h, rows, k, filters);
      const perRow = new Int32Array(rows);
      for (const r of added.rows) perRow[r]!++;
      const plain = this.hostTopK(h, rows, k + Math.max(...perRow), filters);
      return this.rerank(h, plain, k, filters, added);
    }
    if (this.select === 'backend') {
      const plan = this.backendTopK.plan(rows, k, filters);
      const read: Float32Array = yield () => this.backendTopK.select(addScoreAdditions(this.scoreTensor(hidden()), added), plan);
      return this.backendTopK.decode(read, plan);
    }
    const scores: Float32Array = yield () => addScoreAdditions(this.scoreTensor(hidden()), added);
    const n = this.itemCount;
    return filters.map((f, b) => topK(scores, k, f, b * n, n));
  }

  /** Top `k` of each row's plain top list ∪ its addition items, scored exactly with the additions (host paths). */
  private rerank(hidden: Float32Array, plain: readonly Recommendation[], k: number, filters: readonly (ItemFilter | undefined)[], a: ScoreAdditions): Recommendation[] {
    const extra = plain.map(() => new Map<number, number>());
    for (let i = 0; i < a.rows.length; i++) extra[a.rows[i]!]!.set(a.items[i]!, a.values[i]!);
    const heap = new TopKHeap(k);
    return plain.map((list, b) => {
      const add = extra[b]!;
      const candidates = [...list.items, ...add.keys()];
      return topKOfCandidates(this.table, hidden, b * this.dims, candidates, k, resolveFilter(filters[b]), heap, add);
    });
  }

  /** Exact `[batch, itemCount]` scores of host queries (backends with sync reads). */
  scoreAll(hidden: Float32Array, batch: number): Float32Array {
    return runReadsSync((function* (t: ItemScoringTable): ReadingComputation<Float32Array> {
      return yield () => t.scoreTensor(tf.tensor2d(hidden.subarray(0, batch * t.dims), [batch, t.dims]));
    })(this));
  }

  /**
   * Exact scores `[rows, itemCount]` of query vectors `[rows, dims]` against the table resident on the backend,
   * bias included (inside `tf.tidy`): the exact top k, and the models' full score rows.
   */
  scoreTensor(hidden: tf.Tensor2D): tf.Tensor2D {
    const parts = this.residentTable().map((t) => tf.matMul(hidden, t));
    const s = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
    return (this.biasT ? tf.add(s, this.biasT) : s) as tf.Tensor2D;
  }

  /** The table's blocks on the backend, uploaded on first use (at construction for the exact `tfjs` path). */
  private residentTable(): tf.Tensor2D[] {
    if (!this.tableT) {
      const { vectors, itemCount: n, dims: d } = this.table;
      const block = tf.getBackend() === 'wasm' ? WASM_SCORE_BLOCK : n;
      const blocks: tf.Tensor2D[] = [];
      for (let a = 0; a < n; a += block) {
        const b = Math.min(n, a + block);
        blocks.push(tf.keep(tf.tidy(() => tf.transpose(tf.tensor2d(vectors.subarray(a * d, b * d), [b - a, d])))));
      }
      this.tableT = blocks;
      if (this.table.bias) this.biasT = tf.keep(tf.tensor1d(this.table.bias));
    }
    return this.tableT;
  }

  dispose(): void {
    tf.dispose(this.tableT ?? []);
    this.biasT?.dispose();
    this.backendTopK.dispose();
    this.tableT = undefined;
    this.biasT = undefined;
  }

  /** An allow set as an item array (cached for the last set: the pipeline passes the same one to every row). */
  private allowedItems(set: ReadonlySet<number>): Int32Array {
    if (this.allowed?.set !== set) this.allowed = { set, items: Int32Array.from(set) };
    return this.allowed.items;
  }

  /** The ANN path (or the `loop` exact path) for host queries: no backend work. */
  private hostTopK(hidden: Float32Array, batch: number, k: number, filters: readonly (ItemFilter | undefined)[]): Recommendation[] {
    const rowFilters: ResolvedFilter[] = filters.map((f) => resolveFilter(f));
    if (this.mode === 'exact' || batch === 0) return exactTopKLoop(this.table, hidden, batch, k, rowFilters);
    const m = Math.max(this.candidates, k);
    const cand = this.ann!.search(hidden, batch, m);
    const out: Recommendation[] = new Array(batch);
    const fallback: number[] = [];
    const heap = this.heap && this.heap.k === k ? this.heap : (this.heap = new TopKHeap(k));
    for (let b = 0; b < batch; b++) {
      const f = rowFilters[b]!;
      if (f.allow !== undefined) {
        // Exact over the allowed items only (their count bounds the work).
        out[b] = topKOfCandidates(this.table, hidden, b * this.dims, this.allowedItems(f.allow), k, f, heap);
        continue;
      }
      const r = topKOfCandidates(this.table, hidden, b * this.dims, cand.subarray(b * m, (b + 1) * m), k, f, heap);
      if (r.items.length < Math.min(k, this.itemCount - (f.exclude?.size ?? 0))) fallback.push(b);
      else out[b] = r;
    }
    if (fallback.length > 0) {
      // Rows whose exclusions ate the candidates (rare): the fused host loop keeps the call at its one read.
      const h = new Float32Array(fallback.length * this.dims);
      fallback.forEach((b, i) => h.set(hidden.subarray(b * this.dims, (b + 1) * this.dims), i * this.dims));
      const exact = exactTopKLoop(this.table, h, fallback.length, k, fallback.map((b) => rowFilters[b]!));
      fallback.forEach((b, i) => { out[b] = exact[i]!; });
    }
    return out;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
