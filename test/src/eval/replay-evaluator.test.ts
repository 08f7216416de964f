import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../../src/events/click-event.js';
import { evaluateReplay } from '../../../src/eval/replay-evaluator.js';
import { formatComparison, formatEvaluation } from '../../../src/eval/report.js';
import type { Scorer } from '../../../src/scoring/scorer.js';
import type { SessionState } from '../../../src/sessions/session-state.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';

/** Scores 1 for the item after the session's last one (cyclically), 0 for all others. */
class NextIndexScorer implements Scorer {
  readonly name = 'next-index';
  calls: number[] = [];
  constructor(readonly itemCount: number) {}
  observe(): void {}
  score(sessions: readonly SessionState[]): Float32Array {
    this.calls.push(sessions.length);
    const out = new Float32Array(sessions.length * this.itemCount);
    sessions.forEach((s, i) => { out[i * this.itemCount + ((s.items[s.items.length - 1]! + 1) % this.itemCount)] = 1; });
    return out;
  }
}

const vocab = ItemVocabulary.fromIds(['a', 'b', 'c', 'd']);
let t = 1_000_000;
const ev = (sessionId: string, itemId: string): ClickEvent => ({ sessionId, itemId, timestamp: (t += 1000) });
// x is not in the vocabulary.
const log: ClickEvent[] = [
  ev('s1', 'a'), ev('s1', 'b'), ev('s1', 'c'),
  ev('s2', 'a'), ev('s2', 'x'), ev('s2', 'c'),
  ev('s3', 'x'), ev('s3', 'a'),
  ev('s4', 'd'), ev('s4', 'd'),
];

describe('evaluateReplay', () => {
  it('ranks every next item against all items, conservatively, and counts skips', async () => {
    const r = await evaluateReplay(new NextIndexScorer(4), vocab, log, { cutoffs: [1, 5] });
    expect(r.events).toBe(10);
    expect(r.sessions).toBe(4);
    // s1: ranks 1, 1; s2: a→x skipped (OOV target), x→c scored from [a]: b above, c tied with a and d → 4;
    // s3: x→a unscored (no known item yet) → miss; s4: d→d, a above, d tied with b, c → 4.
    expect(r.predictions).toBe(5);
    expect(r.skippedOovTargets).toBe(1);
    expect(r.unscored).toBe(1);
    expect(r.oovEvents).toBe(2);
    const [at1, at5] = r.cutoffs;
    expect(at1!.hitRate).toBeCloseTo(2 / 5, 12);
    expect(at5!.hitRate).toBeCloseTo(4 / 5, 12);
    expect(at5!.mrr).toBeCloseTo((1 + 1 + 0.25 + 0.25) / 5, 12);
    expect(at5!.ndcg).toBeCloseTo((1 + 1 + 2 / Math.log2(5)) / 5, 12);
  });

  it('gives the same metrics whether the log carries item ids as strings or numbers', async () => {
    const numeric = ItemVocabulary.fromIds([1, 2, 3, 4]);
    const asNumbers: ClickEvent[] = log.map((e) => ({ ...e, itemId: e.itemId === 'x' ? 99 : 'abcd'.indexOf(e.itemId as string) + 1 }));
    const asStrings: ClickEvent[] = asNumbers.map((e) => ({ ...e, itemId: String(e.itemId) }));
    const a = await evaluateReplay(new NextIndexScorer(4), numeric, asNumbers, { cutoffs: [1, 5] });
    const b = await evaluateReplay(new NextIndexScorer(4), numeric, asStrings, { cutoffs: [1, 5] });
    const strip = (r: typeof a) => ({ ...r, seconds: 0, eventsPerSecond: 0 });
    expect(strip(b)).toEqual(strip(a));
    expect([a.predictions, a.skippedOovTargets]).toEqual([5, 1]);
  });

  it('gives ties to the target under the optimistic policy', async () => {
    const r = await evaluateReplay(new NextIndexScorer(4), vocab, log, { cutoffs: [2], tiePolicy: 'optimistic' });
    expect(r.cutoffs[0]!.hitRate).toBeCloseTo(4 / 5, 12);
    expect(r.cutoffs[0]!.mrr).toBeCloseTo((1 + 1 + 0.5 + 0.5) / 5, 12);
  });

  it('scores many sessions per model call and gives the same metrics one session at a time', async () => {
    const wide = new NextIndexScorer(4);
    const a = await evaluateReplay(wide, vocab, log, { cutoffs: [1, 5] });
    const narrow = new NextIndexScorer(4);
    const b = await evaluateReplay(narrow, vocab, (async function* () { yield* log; })(), { cutoffs: [1, 5], parallelSessions: 1, roundsPerCall: 1 });
    expect(b.cutoffs).toEqual(a.cutoffs);
    expect(b.predictions).toBe(a.predictions);
    expect(Math.max(...wide.calls)).toBeGreaterThan(1);
    expect(Math.max(...narrow.calls)).toBe(1);
  });

  it('measures coverage and popularity when given training counts', async () => {
    const r = await evaluateReplay(new NextIndexScorer(4), vocab, log, { cutoffs: [1], popularity: [4, 3, 2, 1] });
    // top-1 lists: b, c (s1), b, b (s2), b (s3 after a), a (s4) → items a, b, c
    expect(r.cutoffs[0]!.coverage).toBe(0.75);
    expect(r.averagePopularity).toBeGreaterThan(0);
    expect(formatEvaluation(r)).toMatch(/HR@K/);
    expect(formatComparison([r], 1)).toMatch(/next-index/);
  });

  it('splits predictions by prefix length and into repeat and new targets', async () => {
    const r = await evaluateReplay(new NextIndexScorer(4), vocab, log, { cutoffs: [1, 5] });
    // Prefix 1: s1 a→b (rank 1), s3 x→a (unscored), s4 d→d (repeat, rank 4); prefix 2: s1 b→c (1), s2 x→c (4).
    expect(r.repeatShare).toBeCloseTo(1 / 5, 12);
    expect(r.prefixLengths.map((g) => [g.label, g.predictions])).toEqual([['1', 3], ['2', 2]]);
    expect(r.prefixLengths[0]!.cutoffs[0]!.hitRate).toBeCloseTo(1 / 3, 12);
    expect(r.prefixLengths[1]!.cutoffs[1]!.mrr).toBeCloseTo((1 + 0.25) / 2, 12);
    const [repeat, fresh] = r.repeatSplit;
    expect(repeat).toMatchObject({ label: 'repeat', predictions: 1 });
    expect(repeat!.cutoffs[0]!.hitRate).toBe(0);
    expect(repeat!.cutoffs[1]!.mrr).toBeCloseTo(0.25, 12);
    expect(fresh).toMatchObject({ label: 'new', predictions: 4 });
    expect(fresh!.cutoffs[0]!.hitRate).toBeCloseTo(2 / 4, 12);
    expect(formatEvaluation(r)).toMatch(/repeat share: 20\.0%/);
  });

  it('rejects a vocabulary that does not match the scorer', async () => {
    await expect(evaluateReplay(new NextIndexScorer(3), vocab, log)).rejects.toThrow(/scores 3 items/);
  });

  it('stops with a CANCELLED error when the signal fires', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(evaluateReplay(new NextIndexScorer(4), vocab, log, { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
