import { describe, expect, it } from 'vitest';
import { ClickPipeline } from '../../../src/pipeline/click-pipeline.js';
import type { Recommendation } from '../../../src/scoring/scorer.js';
import { topK, type ItemFilter } from '../../../src/scoring/top-k.js';
import type { SessionState } from '../../../src/sessions/session-state.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { SuccessorScorer } from '../../helpers/toy-scorer.js';

/** SuccessorScorer with the optional `recommend` fast path, recording how it was called. */
class FastSuccessor extends SuccessorScorer {
  recommendCalls: { sessions: number; k: number; filters: ItemFilter[] }[] = [];
  scoreCalls = 0;
  override score(sessions: readonly SessionState[]): Float32Array {
    this.scoreCalls++;
    return super.score(sessions);
  }
  recommend(sessions: readonly SessionState[], k: number, filters: readonly ItemFilter[]): Recommendation[] {
    this.recommendCalls.push({ sessions: sessions.length, k, filters: [...filters] });
    const rows = super.score(sessions);
    return sessions.map((_, b) => topK(rows, k, filters[b], b * this.itemCount, this.itemCount));
  }
}

const ids = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5'];
const ev = (sessionId: string, itemId: string, timestamp: number) => ({ sessionId, itemId, timestamp });
const inputs = [ev('a', 'i0', 1), ev('b', 'i3', 1), ev('a', 'i1', 2), ev('c', 'i5', 3)].map((event, i) => ({ event, meta: i }));

describe('ClickPipeline with Scorer.recommend', () => {
  it('uses the fast path (with per-session filters) and gives the same recommendations as score + topK', async () => {
    const opts = { k: 3, excludeSeen: true, blocklist: ['i2'] };
    const fast = new FastSuccessor(6);
    const viaFast = await new ClickPipeline(fast, ItemVocabulary.fromIds(ids), opts).process(inputs);
    const viaScore = await new ClickPipeline(new SuccessorScorer(6), ItemVocabulary.fromIds(ids), opts).process(inputs);
    expect(viaFast.map((o) => o.recommendation)).toEqual(viaScore.map((o) => o.recommendation));
    expect(fast.scoreCalls).toBe(0);
    expect(fast.recommendCalls.map((c) => [c.sessions, c.k])).toEqual([[2, 3], [2, 3]]);
    // Session a's second event excludes what it has seen (i0 = 0, i1 = 1) and the blocklist (i2 = 2).
    expect([...(fast.recommendCalls[1]!.filters[0]!.exclude as Set<number>)].sort()).toEqual([0, 1, 2]);
    expect(viaFast[2]!.recommendation!.items).toEqual(['i3', 'i4', 'i5']);
  });

  it('falls back to full score rows when a score hook needs them', async () => {
    const fast = new FastSuccessor(6);
    const rows: number[] = [];
    await new ClickPipeline(fast, ItemVocabulary.fromIds(ids), { k: 2 }).process(inputs, (_o, _s, scores, offset, n) => { rows.push(scores.length / n, offset); });
    expect(fast.recommendCalls).toHaveLength(0);
    expect(fast.scoreCalls).toBe(2);
    expect(rows.length).toBe(8);
  });

  it('recommend(sessionId) also uses the fast path, with the call\'s exclusions', async () => {
    const fast = new FastSuccessor(6);
    const p = new ClickPipeline(fast, ItemVocabulary.fromIds(ids), { k: 2 });
    await p.process([{ event: ev('a', 'i0', 1), meta: 0 }]);
    const scoresBefore = fast.scoreCalls;
    const r = await p.recommend('a', { k: 2, exclude: ['i1'] });
    expect(r!.items).toEqual(['i2', 'i3']);
    expect(fast.scoreCalls).toBe(scoresBefore);
    expect(fast.recommendCalls.at(-1)!.k).toBe(2);
  });
});
