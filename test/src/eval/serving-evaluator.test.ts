import { describe, expect, it } from 'vitest';
import { trainBaseline } from '../../../src/baselines/index.js';
import { buildCorpus } from '../../../src/baselines/corpus.js';
import type { ClickEvent } from '../../../src/events/click-event.js';
import { evaluateReplay } from '../../../src/eval/replay-evaluator.js';
import { evaluateServing } from '../../../src/eval/serving-evaluator.js';
import { formatEvaluation } from '../../../src/eval/report.js';
import type { Recommendation, Scorer } from '../../../src/scoring/scorer.js';
import type { ItemFilter } from '../../../src/scoring/top-k.js';
import { topK } from '../../../src/scoring/top-k.js';
import type { SessionState } from '../../../src/sessions/session-state.js';
import { generateSessions, sessionsToEvents } from '../../../src/synthetic/index.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { SuccessorScorer } from '../../helpers/toy-scorer.js';

const N = 12;
const vocab = ItemVocabulary.fromIds(Array.from({ length: N }, (_, i) => `i${i}`));
// 40 sessions of 2..6 events; items follow +1 or +3 patterns so some targets rank 1, others 3, some repeat.
const log: ClickEvent[] = [];
let t = 1_000_000;
for (let s = 0; s < 40; s++) {
  let item = s % N;
  const len = 2 + (s % 5);
  for (let e = 0; e < len; e++) {
    log.push({ sessionId: `s${s}`, itemId: `i${item}`, timestamp: (t += 1000) });
    item = s % 3 === 0 ? item : (item + (s % 2 === 0 ? 1 : 3)) % N;
  }
}

/** The successor model with a serving fast path, like an ANN index: its own top-k, optionally dropping the best item. */
class FastPathScorer extends SuccessorScorer {
  recommendCalls: number[] = [];
  constructor(n: number, private readonly dropBest: boolean) { super(n); }
  recommend(sessions: readonly SessionState[], k: number, filters: readonly ItemFilter[]): Recommendation[] {
    this.recommendCalls.push(sessions.length);
    const rows = this.score(sessions);
    return sessions.map((_, r) => {
      const top = topK(rows, k + 1, filters[r], r * this.itemCount, this.itemCount);
      const from = this.dropBest ? 1 : 0;
      return { items: top.items.slice(from, from + k), scores: top.scores.slice(from, from + k) };
    });
  }
}

describe('evaluateServing', () => {
  it('matches replay when the model has no ties, and times every event', async () => {
    const replay = await evaluateReplay(new SuccessorScorer(N), vocab, log, { cutoffs: [1, 3, 5] });
    const scorer = new SuccessorScorer(N);
    const served = await evaluateServing(scorer, vocab, log, { cutoffs: [1, 3, 5], concurrentSessions: 8 });
    expect(served.mode).toBe('serving');
    expect(served.predictions).toBe(replay.predictions);
    expect(served.events).toBe(log.length);
    expect(served.sessions).toBe(40);
    for (let c = 0; c < 3; c++) {
      expect(served.cutoffs[c]!.hitRate).toBeCloseTo(replay.cutoffs[c]!.hitRate, 12);
      expect(served.cutoffs[c]!.mrr).toBeCloseTo(replay.cutoffs[c]!.mrr, 12);
      expect(served.cutoffs[c]!.coverage).toBeCloseTo(replay.cutoffs[c]!.coverage, 12);
    }
    expect(served.repeatShare).toBeCloseTo(replay.repeatShare, 12);
    expect(served.prefixLengths).toEqual(replay.prefixLengths);
    const lat = served.latency!;
    expect(lat.events).toBe(log.length);
    expect(lat.histogram.counts.reduce((a, b) => a + b, 0)).toBe(log.length);
    expect(lat.p50Ms).toBeLessThanOrEqual(lat.p99Ms);
    expect(lat.p99Ms).toBeLessThanOrEqual(lat.maxMs);
    // Eight users at a time: the pipeline batches their clicks into one model call.
    expect(Math.max(...scorer.observeCalls)).toBeGreaterThan(1);
    expect(Math.max(...scorer.observeCalls)).toBeLessThanOrEqual(8);
    expect(formatEvaluation(served)).toMatch(/serving latency per event/);
  });

  it('uses the model\'s own top-k (ANN path), so an approximate index costs what it costs in production', async () => {
    const exact = new FastPathScorer(N, false);
    const a = await evaluateServing(exact, vocab, log, { cutoffs: [1, 5] });
    expect(exact.recommendCalls.length).toBeGreaterThan(0);
    const lossy = new FastPathScorer(N, true);
    const b = await evaluateServing(lossy, vocab, log, { cutoffs: [1, 5] });
    const replay = await evaluateReplay(new FastPathScorer(N, true), vocab, log, { cutoffs: [1, 5] });
    // Replay reads full score rows and never sees the lossy top-k; serving does.
    expect(a.cutoffs[0]!.hitRate).toBeCloseTo(replay.cutoffs[0]!.hitRate, 12);
    expect(a.cutoffs[0]!.hitRate).toBeGreaterThan(0.3);
    expect(b.cutoffs[0]!.hitRate).toBeLessThan(a.cutoffs[0]!.hitRate);
  });

  it('serves a trained baseline on a synthetic log with the replay accuracy', async () => {
    const syn = generateSessions({ items: 200, sessions: 600, seed: 7 });
    const corpus = await buildCorpus(syn.train.map((s) => ({ sessionId: s.sessionId, items: s.items, times: s.times })));
    const events = sessionsToEvents(syn.test);
    const sr = trainBaseline('sr', corpus);
    const served = await evaluateServing(sr, corpus.vocabulary, events, { cutoffs: [20], popularity: corpus.itemCounts });
    const replay = await evaluateReplay(sr, corpus.vocabulary, events, { cutoffs: [20], tiePolicy: 'optimistic' });
    expect(served.predictions).toBe(replay.predictions);
    // Ties are broken by list order in serving: between the conservative and the optimistic replay.
    const conservative = await evaluateReplay(sr, corpus.vocabulary, events, { cutoffs: [20] });
    expect(served.cutoffs[0]!.hitRate).toBeLessThanOrEqual(replay.cutoffs[0]!.hitRate + 1e-12);
    expect(served.cutoffs[0]!.hitRate).toBeGreaterThanOrEqual(conservative.cutoffs[0]!.hitRate - 1e-12);
    expect(served.averagePopularityPercentile).toBeGreaterThan(0);
  });

  it('rejects a bad concurrency', async () => {
    await expect(evaluateServing(new SuccessorScorer(N), vocab, log, { concurrentSessions: 0 })).rejects.toThrow(/concurrentSessions/);
  });
});
