import { InvalidOptionError } from '../errors.js';
import type { ItemId } from '../events/click-event.js';
import { ItemVocabulary } from '../vocab/item-vocabulary.js';

/** One training session with external item ids, as the data loaders yield it. */
export interface RawSession {
  readonly sessionId?: string;
  readonly items: readonly ItemId[];
  /** Event times (ms); optional. Used to order sessions by recency. */
  readonly times?: readonly number[];
}

/**
 * Training sessions in compressed sparse row form over dense item indices: session `s` is
 * `items[offsets[s] .. offsets[s+1])`. Sessions are kept in the order given (loaders yield them in time
 * order), and `endTimes[s]` is the time of the session's last event (its position when times are absent),
 * which V-SKNN uses for "most recent" sampling.
 */
export interface SessionCorpus {
  readonly vocabulary: ItemVocabulary;
  readonly offsets: Int32Array;
  readonly items: Int32Array;
  readonly endTimes: Float64Array;
  /** Clicks per item in training (length = vocabulary size). */
  readonly itemCounts: Float64Array;
}

export function sessionCount(c: SessionCorpus): number {
  return c.offsets.length - 1;
}

/** Options for {@link buildCorpus}. */
export interface CorpusOptions {
  /** Items with fewer training clicks are dropped from the vocabulary. @defaultValue 1 */
  readonly minItemSupport?: number;
  /** Sessions shorter than this (after dropping items) are skipped. @defaultValue 1 */
  readonly minSessionLength?: number;
  /** Use this vocabulary instead of building one (unknown items are dropped). */
  readonly vocabulary?: ItemVocabulary;
}

/**
 * Builds a corpus from sessions with external ids (an array or an AsyncIterable, e.g. `readSessions(...)`).
 * The vocabulary is ordered by frequency (most clicked first), ties by id, so it is deterministic.
 */
export async function buildCorpus(sessions: AsyncIterable<RawSession> | Iterable<RawSession>, options: CorpusOptions = {}): Promise<SessionCorpus> {
  const minSupport = options.minItemSupport ?? 1;
  const minLen = options.minSessionLength ?? 1;
  if (!Number.isInteger(minLen) || minLen < 1) throw new InvalidOptionError('minSessionLength', 'minSessionLength must be an integer ≥ 1');
  const kept: { items: readonly ItemId[]; end: number }[] = [];
  // Keyed by the id's string form (as the vocabulary is), remembering the first-seen form.
  const counts = new Map<string, { id: ItemId; n: number }>();
  let position = 0;
  for await (const s of sessions as AsyncIterable<RawSession>) {
    const times = s.times;
    const end = times && times.length > 0 ? times[times.length - 1]! : position;
    position++;
    kept.push({ items: s.items, end });
    if (!options.vocabulary) {
      for (const id of s.items) {
        const c = counts.get(String(id));
        if (c) c.n++;
        else counts.set(String(id), { id, n: 1 });
      }
    }
  }
  const vocabulary = options.vocabulary ?? ItemVocabulary.fromCounts(new Map([...counts.values()].map((c) => [c.id, c.n])), minSupport);
  const dense: number[][] = [];
  const ends: number[] = [];
  for (const s of kept) {
    const row: number[] = [];
    for (const id of s.items) {
      const ix = vocabulary.indexOf(id);
      if (ix >= 0) row.push(ix);
    }
    if (row.length >= minLen) { dense.push(row); ends.push(s.end); }
  }
  return corpusFromDense(dense, vocabulary, ends);
}

/** Builds a corpus from sessions already mapped to dense indices of `vocabulary`. */
export function corpusFromDense(sessions: readonly ArrayLike<number>[], vocabulary: ItemVocabulary, endTimes?: ArrayLike<number>): SessionCorpus {
  const n = vocabulary.size;
  const offsets = new Int32Array(sessions.length + 1);
  let total = 0;
  sessions.forEach((s, i) => { total += s.length; offsets[i + 1] = total; });
  const items = new Int32Array(total);
  const itemCounts = new Float64Array(n);
  const ends = new Float64Array(sessions.length);
  sessions.forEach((s, i) => {
    const o = offsets[i]!;
    for (let j = 0; j < s.length; j++) {
      const ix = s[j]!;
      if (!Number.isInteger(ix) || ix < 0 || ix >= n) throw new InvalidOptionError('sessions', `item index ${ix} in training session ${i} is outside the vocabulary (0..${n - 1})`);
      items[o + j] = ix;
      itemCounts[ix]!++;
    }
    ends[i] = endTimes ? endTimes[i]! : i;
  });
  return { vocabulary, offsets, items, endTimes: ends, itemCounts };
}
