import { readFile, writeFile } from 'node:fs/promises';
import { InvalidOptionError, ModelFormatError, NextclickError } from '../errors.js';
import type { ItemId } from '../events/click-event.js';

/** What {@link ItemVocabulary.indexOf} does with an item it has never seen. */
export type OovPolicy = 'ignore' | 'error' | 'grow';

/** Sentinel returned for out-of-vocabulary items under the `ignore` policy. */
export const OOV = -1;

export interface ItemVocabularyJson {
  readonly format: 'nextclick.vocabulary';
  readonly version: 1;
  readonly items: ItemId[];
}

/**
 * External item ids (string or integer) ↔ dense indices 0..size-1, in order of first appearance.
 * Ids are keyed by their string form, so `42` and `"42"` are the same item (Kafka JSON and CSV disagree on
 * types); the first-seen form is what {@link idOf} returns, and {@link idLike} returns an id in the type the
 * caller uses (a string in, strings out), which is how recommendations keep the caller's id type end to end.
 */
export class ItemVocabulary {
  private readonly index = new Map<string, number>();
  private readonly ids: ItemId[] = [];
  /** Ids as strings, and as numbers where they are canonical integers; built on first use, index-aligned. */
  private asString: string[] | undefined;
  private asNumber: ItemId[] | undefined;

  /** Number of items. */
  get size(): number {
    return this.ids.length;
  }

  /** Builds a vocabulary from item counts, keeping items with support ≥ minSupport, most frequent first. */
  static fromCounts(counts: ReadonlyMap<ItemId, number>, minSupport = 1): ItemVocabulary {
    if (!Number.isInteger(minSupport) || minSupport < 1) throw new InvalidOptionError('minSupport', 'minSupport must be an integer ≥ 1');
    const kept = [...counts.entries()].filter(([, c]) => c >= minSupport);
    // Frequency order makes index 0..k the head items (handy for samplers and ANN); ties by id for determinism.
    kept.sort((a, b) => b[1] - a[1] || (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0));
    const v = new ItemVocabulary();
    for (const [id] of kept) v.add(id);
    return v;
  }

  /** Builds from ids in the given order (duplicates ignored). */
  static fromIds(ids: Iterable<ItemId>): ItemVocabulary {
    const v = new ItemVocabulary();
    for (const id of ids) v.add(id);
    return v;
  }

  /** Adds an item if new (growth: appended at the end, existing indices never move); returns its index. */
  add(id: ItemId): number {
    const key = String(id);
    const found = this.index.get(key);
    if (found !== undefined) return found;
    const ix = this.ids.length;
    this.index.set(key, ix);
    this.ids.push(id);
    this.asString?.push(key);
    this.asNumber?.push(numericForm(id));
    return ix;
  }

  has(id: ItemId): boolean {
    return this.index.has(String(id));
  }

  /**
   * Dense index of an id. For unknown ids: `ignore` (default) returns {@link OOV}, `error` throws an
   * `UNKNOWN_ITEM` error, `grow` appends the item.
   */
  indexOf(id: ItemId, oov: OovPolicy = 'ignore'): number {
    const found = this.index.get(String(id));
    if (found !== undefined) return found;
    if (oov === 'grow') return this.add(id);
    if (oov === 'error') {
      throw new NextclickError('UNKNOWN_ITEM', `item "${String(id)}" is not in the vocabulary; retrain or continue training with --from to add it`, {
        context: { itemId: id },
      });
    }
    return OOV;
  }

  /** External id of a dense index. */
  idOf(index: number): ItemId {
    const id = this.ids[index];
    if (id === undefined) throw new InvalidOptionError('index', `item index ${index} is out of range 0..${this.ids.length - 1}`);
    return id;
  }

  /**
   * External id of a dense index in the type of `like`, an id the caller used: with a string, the id's string
   * form (`'214821275'`, never `214821275`); with a number, the id as a number when it is a canonical integer
   * (`'42'` → `42`), else as stored (`'sku-1'` has no number form).
   */
  idLike(index: number, like: ItemId): ItemId {
    const id = this.idOf(index);
    if (typeof id === typeof like) return id;
    if (typeof like === 'string') return (this.asString ??= this.ids.map(String))[index]!;
    return (this.asNumber ??= this.ids.map(numericForm))[index]!;
  }

  /** All ids in index order (a copy). */
  toArray(): ItemId[] {
    return this.ids.slice();
  }

  toJSON(): ItemVocabularyJson {
    return { format: 'nextclick.vocabulary', version: 1, items: this.ids.slice() };
  }

  static fromJSON(json: unknown): ItemVocabulary {
    const j = json as Partial<ItemVocabularyJson> | null;
    if (!j || j.format !== 'nextclick.vocabulary' || !Array.isArray(j.items)) {
      throw new ModelFormatError('not a nextclick vocabulary file (expected format "nextclick.vocabulary")');
    }
    if (j.version !== 1) throw new ModelFormatError(`vocabulary version ${String(j.version)} is not supported by this nextclick (expects 1)`);
    const v = new ItemVocabulary();
    for (const id of j.items) {
      if (typeof id !== 'string' && typeof id !== 'number') throw new ModelFormatError('vocabulary items must be strings or numbers');
      if (v.has(id)) throw new ModelFormatError(`vocabulary lists item "${String(id)}" twice`);
      v.add(id);
    }
    return v;
  }

  async save(path: string): Promise<void> {
    await writeFile(path, JSON.stringify(this.toJSON()));
  }

  static async load(path: string): Promise<ItemVocabulary> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new NextclickError('FILE_NOT_FOUND', `cannot read vocabulary ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return ItemVocabulary.fromJSON(JSON.parse(text));
    } catch (err) {
      if (err instanceof NextclickError) throw err;
      throw new ModelFormatError(`vocabulary ${path} is not valid JSON`, { cause: err });
    }
  }
}

/** `id` as a number when it is a canonical safe integer (`'42'`, not `'042'` or `'4.2'`), else unchanged. */
function numericForm(id: ItemId): ItemId {
  if (typeof id === 'number') return id;
  const n = Number(id);
  return Number.isSafeInteger(n) && String(n) === id ? n : id;
}
