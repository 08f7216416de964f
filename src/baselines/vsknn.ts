import { ModelFormatError } from '../errors.js';
import type { ModelManifest } from '../persistence/model-dir.js';
import type { LoadedModel } from '../scoring/model-registry.js';
import type { ItemVocabulary } from '../vocab/item-vocabulary.js';
import type { StoredArray } from './array-file.js';
import { checkEnum, checkInt, readBaselineDir, RowScorer, type BaselineKind } from './base.js';
import { sessionCount, type SessionCorpus } from './corpus.js';

/** Decay of a weight with distance d ≥ 0 (in steps). */
export type Decay = 'div' | 'linear' | 'same' | 'log';

/** Which V-SKNN: nextclick's own scoring or the published reference's (see {@link VSKnn}). */
export type VSKnnVariant = 'nextclick' | 'session-rec';

/** Options of {@link VSKnn}. */
export interface VSKnnOptions {
  /**
   * `nextclick`: current session weighted by `weighting`, neighbour items scored by their distance from the
   * matched position in the neighbour, every occurrence counted, idf on the matches. `session-rec`: the reference
   * (rn5l/session-rec `VMContextKNN` with its default `div` weighting): current session decays linearly over its
   * length, every distinct neighbour item gets one weight, decayed by `scoreWeighting` of how far back in the
   * current session the newest shared item is, idf on the scored item. @defaultValue 'nextclick'
   */
  readonly variant?: VSKnnVariant;
  /** Neighbour sessions used for scoring. @defaultValue 100 */
  readonly k?: number;
  /** Candidate neighbours: the most recent training sessions sharing an item with the current one. @defaultValue 1000 */
  readonly sampleSize?: number;
  /** Weight of a current-session item by its distance d from the newest item (`div`: 1/(1+d), `linear`: 1−d/10 floored at 0.1, `log`: 1/log2(2+d)). Variant `nextclick` only (`session-rec` uses (L−d)/L over the L items used). @defaultValue 'div' */
  readonly weighting?: Decay;
  /** `nextclick`: weight of a neighbour's item by its distance from the neighbour's best match with the current session. `session-rec`: weight of all of a neighbour's items by the distance (in the current session, from its newest item) of the newest item the neighbour shares. @defaultValue 'div' */
  readonly scoreWeighting?: Decay;
  /** Item idf, log(sessions / sessions with the item). `nextclick`: multiplies the matches in the similarity (slightly better on both benchmark sets); `session-rec`: scores a neighbour item × (1 + idf), the reference's `idf_weighting=1` (false gives its default). @defaultValue true */
  readonly idf?: boolean;
  /** Longest current-session suffix used (older items are ignored). @defaultValue 50 */
  readonly maxSessionItems?: number;
}

export const vsknnDefaults = { variant: 'nextclick', k: 100, sampleSize: 1000, weighting: 'div', scoreWeighting: 'div', idf: true, maxSessionItems: 50 } as const satisfies Required<VSKnnOptions>;

const decays = ['div', 'linear', 'same', 'log'] as const;
const variants = ['nextclick', 'session-rec'] as const;

function resolve(o: VSKnnOptions): Required<VSKnnOptions> {
  const r = { ...vsknnDefaults, ...o };
  checkEnum('variant', r.variant, variants);
  checkInt('k', r.k, 1);
  checkInt('sampleSize', r.sampleSize, 1);
  checkEnum('weighting', r.weighting, decays);
  checkEnum('scoreWeighting', r.scoreWeighting, decays);
  checkInt('maxSessionItems', r.maxSessionItems, 1);
  return r;
}

function decay(kind: Decay, d: number): number {
  switch (kind) {
    case 'div': return 1 / (1 + d);
    case 'linear': return Math.max(0.1, 1 - d / 10);
    case 'log': return 1 / Math.log2(2 + d);
    default: return 1;
  }
}

/**
 * V-SKNN, vector multiplication session-based kNN (after Ludewig & Jannach's session-rec, re-derived here):
 * 1. the current session is a vector over items, newer items weighing more (`weighting`);
 * 2. candidates are the `sampleSize` most recent training sessions sharing an item with it;
 * 3. a candidate's similarity is the dot product of that vector with its (binary, optionally idf-weighted)
 *    item vector; the `k` most similar are the neighbours;
 * 4. every item of a neighbour scores similarity × a weight decaying with its distance from the neighbour's
 *    position matching the newest current item it shares (`scoreWeighting`).
 * Training only indexes the sessions; the work happens at scoring time (sparse, no Maps).
 *
 * Two variants differ in steps 1, 3 and 4 (`variant`); they agree on Diginetica-like logs and part on logs
 * where sessions click the same items again:
 * - `nextclick` (default): step 1 weights an item 1/(1+d) by its distance d from the newest click; step 4
 *   counts every occurrence of an item in the neighbour, each decayed by its distance from the matched
 *   position in the neighbour; idf multiplies the matches in step 3.
 * - `session-rec` (the published reference, `VMContextKNN` of rn5l/session-rec with `weighting='div'`):
 *   step 1 weights an item (L−d)/L, a linear decay over the L items used; a neighbour is a set, so in step 4
 *   every distinct item gets one weight, similarity × `scoreWeighting`(d*) where d* is how far back in the
 *   current session the newest item shared with that neighbour is; idf (optional) multiplies the scored item
 *   by 1 + idf. Differences that remain: idf counts sessions, not clicks, and ties between neighbours go to
 *   the more recent session.
 */
export class VSKnn extends RowScorer {
  readonly name: BaselineKind = 'vsknn';
  readonly options: Required<VSKnnOptions>;
  private readonly S: number;
  private readonly postStart: Int32Array;
  private readonly post: Int32Array;
  private readonly idfOf: Float32Array;
  // Scratch, reused across calls (scoring is synchronous, so one set suffices).
  private readonly itemWeight: Float32Array;
  /** Distance of an item's newest occurrence from the newest click (session-rec variant). */
  private readonly itemDistance: Int32Array;
  /** Marks items already scored for the current neighbour (session-rec variant). */
  private readonly itemStamp: Int32Array;
  private itemStampValue = 0;
  private readonly candStamp: Int32Array;
  private stampValue = 0;

  /** `offsets`/`items`: training sessions (CSR), ordered oldest to newest. */
  constructor(vocabulary: ItemVocabulary, readonly offsets: Int32Array, readonly items: Int32Array, options: VSKnnOptions = {}) {
    super(vocabulary);
    this.options = resolve(options);
    const n = vocabulary.size;
    this.S = offsets.length - 1;
    if (this.S < 0 || offsets[0] !== 0 || offsets[this.S] !== items.length) throw new ModelFormatError('V-SKNN session arrays are inconsistent; re-train the model');
    for (let p = 0; p < items.length; p++) if (items[p]! < 0 || items[p]! >= n) throw new ModelFormatError(`V-SKNN item index ${items[p]} out of range; re-train the model`);
    // item → sessions containing it (each once), ascending, i.e. oldest first.
    const last = new Int32Array(n).fill(-1);
    this.postStart = new Int32Array(n + 1);
    for (let s = 0; s < this.S; s++) {
      for (let p = offsets[s]!; p < offsets[s + 1]!; p++) {
        const i = items[p]!;
        if (last[i] !== s) { last[i] = s; this.postStart[i + 1]!++; }
      }
    }
    for (let i = 0; i < n; i++) this.postStart[i + 1]! += this.postStart[i]!;
    const fill = this.postStart.slice(0, n);
    this.post = new Int32Array(this.postStart[n]!);
    last.fill(-1);
    for (let s = 0; s < this.S; s++) {
      for (let p = offsets[s]!; p < offsets[s + 1]!; p++) {
        const i = items[p]!;
        if (last[i] !== s) { last[i] = s; this.post[fill[i]!++] = s; }
      }
    }
    this.idfOf = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const df = this.postStart[i + 1]! - this.postStart[i]!;
      this.idfOf[i] = df > 0 ? Math.log(this.S / df) : 0;
    }
    this.itemWeight = new Float32Array(n);
    this.itemDistance = new Int32Array(n);
    this.itemStamp = new Int32Array(n);
    this.candStamp = new Int32Array(this.S);
  }

  static train(corpus: SessionCorpus, options: VSKnnOptions = {}): VSKnn {
    // Order sessions by the time of their last event so "most recent" sampling is by session index.
    const S = sessionCount(corpus);
    const order = Array.from({ length: S }, (_, s) => s).sort((a, b) => corpus.endTimes[a]! - corpus.endTimes[b]! || a - b);
    const offsets = new Int32Array(S + 1);
    const items = new Int32Array(corpus.items.length);
    let w = 0;
    order.forEach((s, r) => {
      for (let p = corpus.offsets[s]!; p < corpus.offsets[s + 1]!; p++) items[w++] = corpus.items[p]!;
      offsets[r + 1] = w;
    });
    return new VSKnn(corpus.vocabulary, offsets, items, options);
  }

  protected scoreInto(sessionItems: readonly number[], out: Float32Array, offset: number): void {
    const o = this.options;
    const len = sessionItems.length;
    const from = Math.max(0, len - o.maxSessionItems);
    const reference = o.variant === 'session-rec';
    // 1. Current-session vector (newest occurrence of an item wins, so iterate oldest → newest).
    const distinct: number[] = [];
    for (let p = from; p < len; p++) {
      const i = sessionItems[p]!;
      if (this.itemWeight[i] === 0) distinct.push(i);
      const d = len - 1 - p;
      this.itemWeight[i] = reference ? (len - from - d) / (len - from) : decay(o.weighting, d);
      this.itemDistance[i] = d;
    }
    // 2. Candidates: the most recent sessions from each item's posting list, then the most recent overall.
    const stamp = ++this.stampValue;
    if (stamp === 0x7fffffff) { this.candStamp.fill(0); this.stampValue = 1; }
    const cands: number[] = [];
    for (const i of distinct) {
      const lo = this.postStart[i]!;
      for (let q = this.postStart[i + 1]! - 1; q >= lo && q >= this.postStart[i + 1]! - o.sampleSize; q--) {
        const s = this.post[q]!;
        if (this.candStamp[s] !== this.stampValue) { this.candStamp[s] = this.stampValue; cands.push(s); }
      }
    }
    if (cands.length > o.sampleSize) {
      cands.sort((a, b) => b - a);
      cands.length = o.sampleSize;
    }
    // 3. Similarities and, per candidate, the position of its match with the highest current weight.
    const sims = new Float64Array(cands.length);
    const anchors = new Int32Array(cands.length);
    for (let c = 0; c < cands.length; c++) {
      const s = cands[c]!;
      let sim = 0;
      let best = -1;
      let anchor = -1;
      const a = this.offsets[s]!;
      const b = this.offsets[s + 1]!;
      for (let p = a; p < b; p++) {
        const i = this.items[p]!;
        const wgt = this.itemWeight[i]!;
        if (wgt === 0) continue;
        // Count each distinct shared item once: only at its last occurrence in the neighbour.
        let later = false;
        for (let r = p + 1; r < b; r++) if (this.items[r] === i) { later = true; break; }
        if (later) continue;
        if (reference) {
          sim += wgt;
          // Anchor: the distance of the newest shared item in the current session.
          const d = this.itemDistance[i]!;
          if (anchor < 0 || d < anchor) anchor = d;
          continue;
        }
        sim += o.idf ? wgt * this.idfOf[i]! : wgt;
        if (wgt >= best) { best = wgt; anchor = p - a; }
      }
      sims[c] = sim;
      anchors[c] = anchor;
    }
    // 4. Top-k neighbours (ties: more recent session first) and item scores.
    const order = Array.from({ length: cands.length }, (_, c) => c);
    order.sort((x, y) => sims[y]! - sims[x]! || cands[y]! - cands[x]!);
    const k = Math.min(o.k, order.length);
    for (let q = 0; q < k; q++) {
      const c = order[q]!;
      const sim = sims[c]!;
      if (!(sim > 0)) break;
      const s = cands[c]!;
      const a = this.offsets[s]!;
      const b = this.offsets[s + 1]!;
      const anchor = anchors[c]!;
      if (reference) {
        const w = sim * decay(o.scoreWeighting, anchor);
        const itemStamp = ++this.itemStampValue;
        if (itemStamp === 0x7fffffff) { this.itemStamp.fill(0); this.itemStampValue = 1; }
        for (let p = a; p < b; p++) {
          const i = this.items[p]!;
          if (this.itemStamp[i] === this.itemStampValue) continue;
          this.itemStamp[i] = this.itemStampValue;
          out[offset + i]! += o.idf ? w * (1 + this.idfOf[i]!) : w;
        }
        continue;
      }
      for (let p = a; p < b; p++) {
        const d = Math.abs(p - a - anchor);
        out[offset + this.items[p]!]! += sim * decay(o.scoreWeighting, d);
      }
    }
    for (const i of distinct) this.itemWeight[i] = 0;
  }

  config(): Record<string, unknown> {
    return { ...this.options };
  }

  protected arrays(): Record<string, StoredArray> {
    return { offsets: this.offsets, items: this.items };
  }

  /** Training sessions indexed. */
  get sessions(): number {
    return this.S;
  }

  static async load(dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    const { vocabulary, arrays } = await readBaselineDir(dir, manifest, { offsets: 'Int32Array', items: 'Int32Array' });
    const scorer = new VSKnn(vocabulary, arrays['offsets'] as Int32Array, arrays['items'] as Int32Array, manifest.config as VSKnnOptions);
    return { scorer, vocabulary, manifest };
  }
}
