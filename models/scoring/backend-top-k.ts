import { tf } from '../../src/backend/tf.js';
import { InvalidOptionError } from '../../src/errors.js';
import { resolveFilter } from '../../src/scoring/dense-top-k.js';
import type { Recommendation } from '../../src/scoring/scorer.js';
import type { ItemFilter } from '../../src/scoring/top-k.js';

/** Item indices travel as float32 next to the scores (one read); exact up to 2²⁴. */
const MAX_ITEMS = 1 << 24;

/**
 * Top-k of a `[rows, itemCount]` score tensor on the TF.js backend, with the filters applied there: excluded
 * items are set to -Infinity by one scatter, an allow list adds a 0/-Infinity mask (one `[itemCount]` mask,
 * uploaded once per allow set, which is therefore taken as immutable, when every row has the same one), then
 * `tf.topk`. {@link select} returns one
 * `[rows, 2k]` tensor (scores, then item indices as float32) so a micro-batch reads back once;
 * {@link decode} turns that read into recommendations, dropping filtered (-Infinity) and NaN entries. Ties go
 * to the lower index, as {@link topK} breaks them.
 */
export class BackendTopK {
  private allowMask: { set: ReadonlySet<number>; mask: tf.Tensor1D } | undefined;

  constructor(readonly itemCount: number) {
    if (itemCount > MAX_ITEMS) throw new InvalidOptionError('itemCount', `backend top-k returns item indices as float32, exact up to ${MAX_ITEMS} items; this model has ${itemCount}: use the ANN path (scoring: 'ann')`);
  }

  /** Columns per row of {@link select}'s result for `k`. */
  width(k: number): number {
    return 2 * Math.min(k, this.itemCount);
  }

  /** The filtered top-k of `scores` as `[rows, 2k]` (call inside `tf.tidy`; `scores` is not disposed). */
  select(scores: tf.Tensor2D, k: number, filters: readonly (ItemFilter | undefined)[]): tf.Tensor2D {
    const [rows, n] = scores.shape;
    const kk = Math.min(k, n);
    let s: tf.Tensor2D = scores;
    const resolved = filters.map((f) => resolveFilter(f));
    const firstAllow = resolved[0]?.allow;
    if (resolved.some((f) => f.allow !== undefined)) {
      if (resolved.every((f) => f.allow === firstAllow)) s = tf.add(s, this.sharedAllowMask(firstAllow!));
      else {
        const mask = new Float32Array(rows * n);
        resolved.forEach((f, b) => { if (f.allow) for (let j = 0; j < n; j++) if (!f.allow.has(j)) mask[b * n + j] = -Infinity; });
        s = tf.add(s, tf.tensor2d(mask, [rows, n]));
      }
    }
    let pairs = 0;
    for (const f of resolved) pairs += f.exclude?.size ?? 0;
    if (pairs > 0) {
      const at = new Int32Array(2 * pairs);
      let p = 0;
      resolved.forEach((f, b) => {
        for (const item of f.exclude ?? []) if (item >= 0 && item < n) { at[p++] = b; at[p++] = item; }
      });
      if (p > 0) s = tf.tensorScatterUpdate(s, tf.tensor2d(at.subarray(0, p), [p / 2, 2], 'int32'), tf.fill([p / 2], -Infinity));
    }
    const { values, indices } = tf.topk(s, kk, true);
    return tf.concat([values, tf.cast(indices, 'float32')], 1) as tf.Tensor2D;
  }

  /** Recommendations from the read of {@link select}'s result. */
  decode(read: Float32Array, rows: number, k: number): Recommendation[] {
    const kk = Math.min(k, this.itemCount), w = 2 * kk;
    const out: Recommendation[] = [];
    for (let b = 0; b < rows; b++) {
      let m = 0;
      while (m < kk && read[b * w + m]! > -Infinity) m++; // sorted: filtered (-Infinity) and NaN entries come last
      out.push({ scores: read.slice(b * w, b * w + m), items: Int32Array.from(read.subarray(b * w + kk, b * w + kk + m)) });
    }
    return out;
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
