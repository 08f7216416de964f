import { ModelFormatError } from '../errors.js';
import type { ModelManifest } from '../persistence/model-dir.js';
import type { LoadedModel } from '../scoring/model-registry.js';
import type { ItemVocabulary } from '../vocab/item-vocabulary.js';
import type { StoredArray } from './array-file.js';
import { readBaselineDir, RowScorer, type BaselineKind } from './base.js';
import type { SessionCorpus } from './corpus.js';

/** Most popular items in training, the same list for every session (the floor any model must beat). */
export class MostPopular extends RowScorer {
  readonly name: BaselineKind = 'pop';
  private readonly row: Float32Array;

  /** `counts[i]` = training clicks of item i. */
  constructor(vocabulary: ItemVocabulary, readonly counts: Float64Array) {
    super(vocabulary);
    if (counts.length !== vocabulary.size) throw new ModelFormatError(`popularity has ${counts.length} entries for ${vocabulary.size} items`);
    let max = 0;
    for (const c of counts) if (c > max) max = c;
    this.row = Float32Array.from(counts, (c) => (max > 0 ? c / max : 0));
  }

  static train(corpus: SessionCorpus): MostPopular {
    return new MostPopular(corpus.vocabulary, corpus.itemCounts.slice());
  }

  protected scoreInto(_items: readonly number[], out: Float32Array, offset: number): void {
    out.set(this.row, offset);
  }

  config(): Record<string, unknown> {
    return {};
  }

  protected arrays(): Record<string, StoredArray> {
    return { counts: this.counts };
  }

  static async load(dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    const { vocabulary, arrays } = await readBaselineDir(dir, manifest, { counts: 'Float64Array' });
    return { scorer: new MostPopular(vocabulary, arrays['counts'] as Float64Array), vocabulary, manifest };
  }
}
