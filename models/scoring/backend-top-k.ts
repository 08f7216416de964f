import { tf } from '../../src/backend/tf.js';
import { InvalidOptionError } from '../../src/errors.js';
import { resolveFilter, type ResolvedFilter } from '../../src/scoring/dense-top-k.js';
import type { Recommendation } from '../../src/scoring/scorer.js';
import type { ItemFilter } from '../../src/scoring/top-k.js';

/** Item indices travel as float32 next to the scores (one read); exact up to 2²⁴. */
const MAX_ITEMS = 1 << 24;

/**
 * Exclusions per row up to which the backend over-fetches instead of scattering -Infinity: the top `k + E` of a row
 * holds its top `k` admissible items when at most E are excluded, and the host drops the excluded ones from the
 * read; the scatter would copy the whole `[rows, itemCount]` score matrix (44 MB for 256 × 43k on wasm).
 */
const OVERFETCH_MAX_EXCLUDED = 64;

/**
 * Top-k of a `[rows, itemCount]` score tensor on the TF.js backend, with the filters applied there: an allow list
 * adds a 0/-Infinity mask (one `[itemCount]` mask, uploaded once per allow set, which is therefore taken as
 * immutable, when every row has the same one; else a `[rows, itemCount]` mask); exclusions are either over-fetched
 * (at most {@link OVERFETCH_MAX_EXCLUDED} per row: `tf.topk` returns k + E per row and {@link decode} drops the
 * excluded items) or set to -Infinity by one scatter; then `tf.topk`. {@link select} returns one tensor
 * (scores, then item indices as float32, per row) so a micro-batch reads back once; {@link decode} turns that
 * read into recommendations, dropping filtered (-Infinity) and NaN entries. Ties go to the lower index, as
 * {@link topK} breaks them.
 */
/** One micro-batch's selection: made by {@link BackendTopK.plan}, run by `select`, read back by `decode`. */
export interface TopKPlan {
  readonly k: number;
  /** Entries `tf.topk` returns per row (k, plus the over-fetched exclusions). */
  readonly fetched: number;
  readonly filters: readonly ResolvedFilter[];
  /** Exclusions set to -Infinity on the backend (`[row, item]` pairs), or undefined when they are over-fetched. */
  readonly scatter: Int32Array | undefined;
}

export class BackendTopK {
  private allowMask: { set: ReadonlySet<number>; mask: tf.Tensor1D } | undefined;

  constructor(readonly itemCount: number) {
    if (itemCount > MAX_ITEMS) throw new InvalidOptionError('itemCount', `backend top-k returns item indices as float32, exact up to ${MAX_ITEMS} items; this model has ${itemCount}: use the ANN path (scoring: 'ann')`);
  }

  /** How the top `k` of `rows` rows will be selected with these filters (one per row). */
  plan(rows: number, k: number, filters: readonly (ItemFilter | undefined)[]): TopKPlan {
    const n = this.itemCount;
    const resolved = Array.from({ length: rows }, (_, b) => resolveFilter(filters[b]));
    let pairs = 0, most = 0;
    for (const f of resolved) { const e = f.exclude?.size ?? 0; pairs += e; most = Math.max(most, e); }
    if (most <= OVERFETCH_MAX_EXCLUDED) return { k, fetched: Math.min(k + most, n), filters: resolved, scatter: undefined };
    const at = new Int32Array(2 * pairs);
    let p = 0;
    resolved.forEach((f, b) => {
      for (const item of f.exclude ?? []) if (item >= 0 && item < n) { at[p++] = b; at[p++] = item; }
    });
    return { k, fetched: Math.min(k, n), filters: resolved, scatter: at.subarray(0, p) };
  }

  /** The planned top-k of `scores` as `[rows, 2·fetched]` (call inside `tf.tidy`; `scores` is not disposed). */
  select(scores: tf.Tensor2D, plan: TopKPlan): tf.Tensor2D {
    const [rows, n] = scores.shape;
    let s: tf.Tensor2D = scores;
    const firstAllow = plan.filters[0]?.allow;
    if (plan.filters.some((f) => f.allow !== undefined)) {
      if (plan.filters.every((f) => f.allow === firstAllow)) s = tf.add(s, this.sharedAllowMask(firstAllow!));
      else {
        const mask = new Float32Array(rows * n);
        plan.filters.forEach((f, b) => { if (f.allow) for (let j = 0; j < n; j++) if (!f.allow.has(j)) mask[b * n + j] = -Infinity; });
        s = tf.add(s, tf.tensor2d(mask, [rows, n]));
      }
    }
    const at = plan.scatter;
    if (at && at.length > 0) s = tf.tensorScatterUpdate(s, tf.tensor2d(at, [at.length / 2, 2], 'int32'), tf.fill([at.length / 2], -Infinity));
    const { values, indices } = tf.topk(s, plan.fetched, true);
    return tf.concat([values, tf.cast(indices, 'float32')], 1) as tf.Tensor2D;
  }

  /** Recommendations (at most `k` per row) from the read of {@link select}'s result. */
  decode(read: Float32Array, plan: TopKPlan): Recommendation[] {
    const m = plan.fetched, w = 2 * m;
    return plan.filters.map((f, b) => {
      const exclude = plan.scatter ? undefined : f.exclude;
      const items: number[] = [], scores: number[] = [];
      // Sorted: filtered (-Infinity) and NaN entries come last.
      for (let j = 0; j < m && items.length < plan.k && read[b * w + j]! > -Infinity; j++) {
        const item = read[b * w + m + j]!;
        if (exclude?.has(item)) continue;
        items.push(item);
        scores.push(read[b * w + j]!);
      }
      return { items: Int32Array.from(items), scores: Float32Array.from(scores) };
    });
  }

  dispose(): void {
    this.allowMask?.mask.dispose();
    this.allowMask = undefined;
  }

  private sharedAllowMask(set: ReadonlySet<number>): tf.Tensor1D {
    if (this.allowMask?.set !== set) {
      this.allowMask?.mask.dispose();
      const m = new Float32Array(this.itemCount).fill(-Infinity);
      for (const j of set) if (j >= 0 && j < this.itemCount) m[j] = 0;
      this.allowMask = { set, mask: tf.keep(tf.tensor1d(m)) };
    }
    return this.allowMask.mask;
  }
}
