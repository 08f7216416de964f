import { ModelFormatError } from '../errors.js';
import type { ModelManifest } from '../persistence/model-dir.js';
import type { LoadedModel } from '../scoring/model-registry.js';
import type { ItemVocabulary } from '../vocab/item-vocabulary.js';
import type { StoredArray } from './array-file.js';
import { checkEnum, checkInt, checkNumber, readBaselineDir, RowScorer, takeTop, type BaselineKind } from './base.js';
import { sessionCount, type SessionCorpus } from './corpus.js';
import { NeighbourTable } from './neighbour-table.js';

/** How a rule a→b is weighted by the number of steps between a and b. */
export type RuleWeighting = 'div' | 'linear' | 'same';

/** Options of {@link SequentialRules}. */
export interface SequentialRulesOptions {
  /** Window: a rule a→b is counted when b follows a within this many steps. @defaultValue 10 */
  readonly steps?: number;
  /** Weight of a rule by gap g (1 = adjacent): `div` 1/g, `linear` 1 − (g−1)/steps, `same` 1. @defaultValue 'div' */
  readonly weighting?: RuleWeighting;
  /** Rules kept per source item, strongest first (0 = all). @defaultValue 0 */
  readonly maxRules?: number;
  /** Count a→a rules (repeat clicks). @defaultValue true */
  readonly selfRules?: boolean;
  /**
   * Earlier session items also vote, item d steps before the last with weight `contextWeight / d` (their
   * normalised rules added to the last item's). 0 is classic SR (last item only); 0.3 was best on yoochoose-100k and diginetica (bench/baselines.md). @defaultValue 0.3
   */
  readonly contextWeight?: number;
  /** How many items before the last vote when `contextWeight` > 0. @defaultValue 3 */
  readonly contextItems?: number;
  /**
   * Items without any rule are ranked by training popularity (below every item with a rule) instead of all
   * tying at 0; helps when the last item has few rules. @defaultValue true
   */
  readonly popularityFallback?: boolean;
}

export const sequentialRulesDefaults = {
  steps: 10, weighting: 'div', maxRules: 0, selfRules: true, contextWeight: 0.3, contextItems: 3, popularityFallback: true,
} as const satisfies Required<SequentialRulesOptions>;

/** Scale of the popularity fallback: every rule score is lifted by this, fallback scores stay below it. */
const FALLBACK_SCALE = 1e-3;

function resolve(o: SequentialRulesOptions): Required<SequentialRulesOptions> {
  const r = { ...sequentialRulesDefaults, ...o };
  checkInt('steps', r.steps, 1, 1000);
  checkEnum('weighting', r.weighting, ['div', 'linear', 'same'] as const);
  checkInt('maxRules', r.maxRules, 0);
  checkNumber('contextWeight', r.contextWeight, 0);
  checkInt('contextItems', r.contextItems, 0, 1000);
  return r;
}

/**
 * Sequential Rules (Ludewig & Jannach): a rule a→b gets weight w(g) each time b follows a within `steps`
 * steps in a training session (g = gap). A session is scored from its last item only: the rule weights of
 * that item, normalised so the strongest rule scores 1.
 */
export class SequentialRules extends RowScorer {
  readonly name: BaselineKind = 'sr';
  readonly options: Required<SequentialRulesOptions>;
  private readonly fallbackRow: Float32Array | undefined;

  /** `popularity`: training clicks per item (for the popularity fallback). */
  constructor(vocabulary: ItemVocabulary, readonly rules: NeighbourTable, readonly popularity: Float32Array, options: SequentialRulesOptions = {}) {
    super(vocabulary);
    this.options = resolve(options);
    if (popularity.length !== vocabulary.size) throw new ModelFormatError(`SR popularity has ${popularity.length} entries for ${vocabulary.size} items; re-train the model`);
    if (this.options.popularityFallback) {
      let max = 0;
      for (const c of popularity) if (c > max) max = c;
      this.fallbackRow = Float32Array.from(popularity, (c) => (max > 0 ? (FALLBACK_SCALE * c) / max : 0));
    }
  }

  static train(corpus: SessionCorpus, options: SequentialRulesOptions = {}): SequentialRules {
    const o = resolve(options);
    const n = corpus.vocabulary.size;
    const { offsets, items } = corpus;
    const weight = (g: number) => (o.weighting === 'div' ? 1 / g : o.weighting === 'linear' ? 1 - (g - 1) / o.steps : 1);
    // Group occurrences by source item, then accumulate that item's rules in a dense scratch row.
    const sessionOfPos = new Int32Array(items.length);
    for (let s = 0; s < sessionCount(corpus); s++) sessionOfPos.fill(s, offsets[s]!, offsets[s + 1]!);
    const occStart = new Int32Array(n + 1);
    for (let p = 0; p < items.length; p++) occStart[items[p]! + 1]!++;
    for (let i = 0; i < n; i++) occStart[i + 1]! += occStart[i]!;
    const fill = occStart.slice(0, n);
    const occ = new Int32Array(items.length);
    for (let p = 0; p < items.length; p++) occ[fill[items[p]!]!++] = p;

    const acc = new Float64Array(n);
    const touched = new Int32Array(n);
    const idx: number[][] = [];
    const val: number[][] = [];
    for (let a = 0; a < n; a++) {
      let count = 0;
      for (let q = occStart[a]!; q < occStart[a + 1]!; q++) {
        const p = occ[q]!;
        const end = Math.min(offsets[sessionOfPos[p]! + 1]!, p + o.steps + 1);
        for (let t = p + 1; t < end; t++) {
          const b = items[t]!;
          if (b === a && !o.selfRules) continue;
          if (acc[b] === 0) touched[count++] = b;
          acc[b]! += weight(t - p);
        }
      }
      const ri: number[] = [];
      const rv: number[] = [];
      takeTop(acc, touched, count, o.maxRules, ri, rv);
      idx.push(ri);
      val.push(rv);
    }
    return new SequentialRules(corpus.vocabulary, NeighbourTable.fromLists(idx, val), Float32Array.from(corpus.itemCounts), o);
  }

  protected scoreInto(items: readonly number[], out: Float32Array, offset: number): void {
    const fallback = this.fallbackRow;
    if (fallback) out.set(fallback, offset);
    const lift = fallback ? FALLBACK_SCALE : 0;
    const { start, items: to, weights } = this.rules;
    const depth = this.options.contextWeight > 0 ? Math.min(items.length, this.options.contextItems + 1) : 1;
    for (let d = 0; d < depth; d++) {
      const src = items[items.length - 1 - d]!;
      const a = start[src]!;
      const b = start[src + 1]!;
      if (a === b) continue;
      // Lists are sorted best first, so the first weight is the list's maximum: normalise by it.
      const scale = (d === 0 ? 1 : this.options.contextWeight / d) / weights[a]!;
      for (let p = a; p < b; p++) out[offset + to[p]!]! += lift + scale * weights[p]!;
    }
  }

  config(): Record<string, unknown> {
    return { ...this.options };
  }

  protected arrays(): Record<string, StoredArray> {
    return { ...this.rules.toArrays(), popularity: this.popularity };
  }

  static async load(dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    const { vocabulary, arrays } = await readBaselineDir(dir, manifest, { start: 'Int32Array', neighbours: 'Int32Array', weights: 'Float32Array', popularity: 'Float32Array' });
    const scorer = new SequentialRules(vocabulary, NeighbourTable.fromArrays(arrays, vocabulary.size, dir), arrays['popularity'] as Float32Array, manifest.config as SequentialRulesOptions);
    return { scorer, vocabulary, manifest };
  }
}
