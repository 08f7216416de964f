import { ModelFormatError } from '../errors.js';
import type { ModelManifest } from '../persistence/model-dir.js';
import type { LoadedModel } from '../scoring/model-registry.js';
import type { ItemVocabulary } from '../vocab/item-vocabulary.js';
import type { StoredArray } from './array-file.js';
import { checkEnum, checkInt, readBaselineDir, RowScorer, type BaselineKind } from './base.js';
import { sessionCount, type SessionCorpus } from './corpus.js';

/** Decay of a weight with distance d ≥ 0 (in steps). */
export type Decay = 'div' | 'linear' | 'same' | 'log';

/** Options of {@link VSKnn}. */
export interface VSKnnOptions {
  /** Neighbour sessions used for scoring. @defaultValue 100 */
  readonly k?: number;
  /** Candidate neighbours: the most recent training sessions sharing an item with the current one. @defaultValue 1000 */
  readonly sampleSize?: number;
  /** Weight of a current-session item by its distance from the newest item (`div`: 1/(1+d), `linear`: 1−d/10 floored at 0.1, `log`: 1/log2(2+d)). @defaultValue 'div' */
  readonly weighting?: Decay;
  /** Weight of a neighbour's item by its distance from the neighbour's best match with the current session. @defaultValue 'div' */
  readonly scoreWeighting?: Decay;
  /** Multiply matches by the item's idf, log(sessions / sessions with the item); slightly better on both benchmark sets. @defaultValue true */
  readonly idf?: boolean;
  /** Longest current-session suffix used (older items are ignored). @defaultValue 50 */
  readonly maxSessionItems?: number;
}

export const vsknnDefaults = { k: 100, sampleSize: 1000, weighting: 'div', scoreWeighting: 'div', idf: true, maxSessionItems: 50 } as const satisfies Required<VSKnnOptions>;

const decays = ['div', 'linear', 'same', 'log'] as const;

function resolve(o: VSKnnOptions): Required<VSKnnOptions> {
  const r = { ...vsknnDefaults, ...o };
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
    // 1. Current-session vector (newest occurrence of an item wins, so iterate oldest → newest).
    const distinct: number[] = [];
    for (let p = from; p < len; p++) {
      const i = sessionItems[p]!;
      if (this.itemWeight[i] === 0) distinct.push(i);
      this.itemWeight[i] = decay(o.weighting, len - 1 - p);
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
