import type { ModelManifest } from '../persistence/model-dir.js';
import type { LoadedModel } from '../scoring/model-registry.js';
import type { ItemVocabulary } from '../vocab/item-vocabulary.js';
import type { StoredArray } from './array-file.js';
import { checkInt, checkNumber, readBaselineDir, RowScorer, takeTop, type BaselineKind } from './base.js';
import { sessionCount, type SessionCorpus } from './corpus.js';
import { NeighbourTable } from './neighbour-table.js';

/** Options of {@link ItemKnn}. */
export interface ItemKnnOptions {
  /** Neighbours kept per item. @defaultValue 200 */
  readonly neighbours?: number;
  /** Regularisation λ added to both support counts (damps similarities of rare items). @defaultValue 20 */
  readonly lambda?: number;
  /** Asymmetry α: sim(i,j) = c(i,j) / ((n_i+λ)^α (n_j+λ)^(1−α)); 0.5 is cosine. @defaultValue 0.5 */
  readonly alpha?: number;
}

export const itemKnnDefaults = { neighbours: 200, lambda: 20, alpha: 0.5 } as const satisfies Required<ItemKnnOptions>;

function resolve(o: ItemKnnOptions): Required<ItemKnnOptions> {
  const r = { ...itemKnnDefaults, ...o };
  checkInt('neighbours', r.neighbours, 1);
  checkNumber('lambda', r.lambda, 0);
  checkNumber('alpha', r.alpha, 0, 1);
  return r;
}

/**
 * Item-kNN as the GRU4Rec paper's baseline: items are similar when they occur in the same sessions
 * (cosine-like similarity of their session-occurrence vectors, regularised by λ and α). A session is scored
 * by the neighbours of its last item.
 */
export class ItemKnn extends RowScorer {
  readonly name: BaselineKind = 'itemknn';
  readonly options: Required<ItemKnnOptions>;

  constructor(vocabulary: ItemVocabulary, readonly similar: NeighbourTable, options: ItemKnnOptions = {}) {
    super(vocabulary);
    this.options = resolve(options);
  }

  static train(corpus: SessionCorpus, options: ItemKnnOptions = {}): ItemKnn {
    const o = resolve(options);
    const n = corpus.vocabulary.size;
    const S = sessionCount(corpus);
    // Distinct items per session (CSR), and item → sessions.
    const stamp = new Int32Array(n).fill(-1);
    const dStart = new Int32Array(S + 1);
    const dItems: number[] = [];
    for (let s = 0; s < S; s++) {
      for (let p = corpus.offsets[s]!; p < corpus.offsets[s + 1]!; p++) {
        const i = corpus.items[p]!;
        if (stamp[i] !== s) { stamp[i] = s; dItems.push(i); }
      }
      dStart[s + 1] = dItems.length;
    }
    const support = new Float64Array(n);
    for (const i of dItems) support[i]!++;
    const postStart = new Int32Array(n + 1);
    for (const i of dItems) postStart[i + 1]!++;
    for (let i = 0; i < n; i++) postStart[i + 1]! += postStart[i]!;
    const fill = postStart.slice(0, n);
    const post = new Int32Array(dItems.length);
    for (let s = 0; s < S; s++) for (let p = dStart[s]!; p < dStart[s + 1]!; p++) post[fill[dItems[p]!]!++] = s;

    const acc = new Float64Array(n);
    const touched = new Int32Array(n);
    const idx: number[][] = [];
    const val: number[][] = [];
    const { lambda, alpha } = o;
    for (let a = 0; a < n; a++) {
      let count = 0;
      for (let q = postStart[a]!; q < postStart[a + 1]!; q++) {
        const s = post[q]!;
        for (let p = dStart[s]!; p < dStart[s + 1]!; p++) {
          const b = dItems[p]!;
          if (b === a) continue;
          if (acc[b] === 0) touched[count++] = b;
          acc[b]!++;
        }
      }
      const da = Math.pow(support[a]! + lambda, alpha);
      for (let q = 0; q < count; q++) {
        const b = touched[q]!;
        acc[b] = acc[b]! / (da * Math.pow(support[b]! + lambda, 1 - alpha) || 1);
      }
      const ri: number[] = [];
      const rv: number[] = [];
      takeTop(acc, touched, count, o.neighbours, ri, rv);
      idx.push(ri);
      val.push(rv);
    }
    return new ItemKnn(corpus.vocabulary, NeighbourTable.fromLists(idx, val), o);
  }

  protected scoreInto(items: readonly number[], out: Float32Array, offset: number): void {
    this.similar.writeRow(items[items.length - 1]!, 1, out, offset);
  }

  config(): Record<string, unknown> {
    return { ...this.options };
  }

  protected arrays(): Record<string, StoredArray> {
    return this.similar.toArrays();
  }

  static async load(dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    const { vocabulary, arrays } = await readBaselineDir(dir, manifest, { start: 'Int32Array', neighbours: 'Int32Array', weights: 'Float32Array' });
    const scorer = new ItemKnn(vocabulary, NeighbourTable.fromArrays(arrays, vocabulary.size, dir), manifest.config as ItemKnnOptions);
    return { scorer, vocabulary, manifest };
  }
}
