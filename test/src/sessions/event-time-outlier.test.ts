// RELIABILITY.md 16: event time that one record cannot poison. Wall-clock bounds reject 1e20 (SDK:
// InvalidEventError); one accepted event at +23 h among 100,000 sessions neither stops idle expiry nor changes
// any other session's recommendations (robust watermark, Sessionizer.maxWatermarkJumpMs).
import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../../src/events/click-event.js';
import { InvalidEventError } from '../../../src/errors.js';
import { ClickPipeline } from '../../../src/pipeline/click-pipeline.js';
import { Recommender } from '../../../src/scoring/recommender.js';
import type { SessionizerOptions } from '../../../src/sessions/sessionizer-options.js';
import { BASE_TIME, rng } from '../../streaming/fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../../streaming/fixtures/scorers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** 100,000 sessions starting 1 s apart (27.8 h of event time): clicks at +0, +1 min, +2.5 min, and for one in five +28 min (just inside the 30 min idle timeout). */
function traffic(): ClickEvent[] {
  const r = rng(2026);
  const out: ClickEvent[] = [];
  for (let s = 0; s < 100_000; s++) {
    const start = BASE_TIME + s * 1000;
    for (const dt of r() < 0.2 ? [0, MIN, 2.5 * MIN, 28 * MIN] : [0, MIN, 2.5 * MIN]) {
      out.push({ sessionId: `s${s}`, itemId: Math.floor(r() * 50), timestamp: start + dt, eventId: `s${s}-${dt}` });
    }
  }
  return out.sort((a, b) => a.timestamp - b.timestamp);
}

async function run(events: readonly ClickEvent[], sessions: SessionizerOptions = {}) {
  const p = new ClickPipeline(new HistoryScorer(50), testVocabulary(50), { k: 5, sessions: { idleTimeoutMs: 30 * MIN, ...sessions } });
  const recs = new Map<string, string>();
  for (let i = 0; i < events.length; i += 500) {
    const outs = await p.process(events.slice(i, i + 500).map((event) => ({ event, meta: undefined })));
    for (const o of outs) if (o.recommendation) recs.set(o.event.eventId!, `${o.recommendation.items.join(',')} ${o.recommendation.scores.join(',')}`);
  }
  return { recs, stats: p.sessionizer.stats() };
}

describe('event time one record cannot poison', () => {
  it('Recommender.observe rejects timestamps beyond the wall-clock bounds with InvalidEventError', async () => {
    const rec = new Recommender(new HistoryScorer(5), testVocabulary(5), { k: 2 });
    const now = Date.now();
    await expect(rec.observe({ sessionId: 'a', itemId: 1, timestamp: 1e20 })).rejects.toBeInstanceOf(InvalidEventError);
    await expect(rec.observe({ sessionId: 'a', itemId: 1, timestamp: now + 2 * 24 * HOUR })).rejects.toThrowError(/ahead of the wall clock/);
    expect(await rec.observe({ sessionId: 'a', itemId: 1, timestamp: now })).toBeDefined();
    // Configurable: a past bound, and a tighter future bound.
    const strict = new Recommender(new HistoryScorer(5), testVocabulary(5), { validation: { maxPastMs: HOUR, maxFutureMs: MIN } });
    await expect(strict.observe({ sessionId: 'b', itemId: 1, timestamp: now - 2 * HOUR })).rejects.toThrowError(expect.objectContaining({ code: 'INVALID_EVENT', field: 'timestamp' }) as Error);
    await expect(strict.observe({ sessionId: 'b', itemId: 1, timestamp: now + 2 * MIN })).rejects.toBeInstanceOf(InvalidEventError);
    expect(rec.stats().watermark).toBe(now - MIN);
    await rec.close();
    await strict.close();
  });

  it('a timestamp of 1e20 (validation off) moves the watermark by at most maxWatermarkJumpMs; other sessions keep expiring', async () => {
    const events = traffic().slice(0, 30_000);
    const poisoned = [...events.slice(0, 15_000), { sessionId: 'far', itemId: 1, timestamp: 1e20, eventId: 'far' }, ...events.slice(15_000)];
    const clean = await run(events);
    const withOutlier = await run(poisoned);
    expect(withOutlier.stats.watermark).toBe(clean.stats.watermark);
    expect(withOutlier.stats.closedIdle).toBe(clean.stats.closedIdle);
    expect(clean.stats.closedIdle).toBeGreaterThan(5_000);
  });

  it('one event at +23 h among 100,000 sessions over 27.8 h: idle expiry goes on, no other recommendation changes', { timeout: 600_000 }, async () => {
    const events = traffic();
    const mid = Math.floor(events.length / 2);
    const outlier: ClickEvent = { sessionId: 'skewed-clock', itemId: 3, timestamp: events[mid]!.timestamp + 23 * HOUR, eventId: 'outlier' };
    const poisoned = [...events.slice(0, mid), outlier, ...events.slice(mid)];
    const clean = await run(events);
    const withOutlier = await run(poisoned);
    // The same run with an unbounded watermark step (the old behaviour) shows what the test guards against.
    const unbounded = await run(poisoned, { maxWatermarkJumpMs: Number.MAX_VALUE });
    const differing = (x: Map<string, string>) => [...clean.recs].filter(([id, items]) => x.get(id) !== items).length;
    console.log(`[event-time +23h] events=${events.length} recommendations=${clean.recs.size} differing=${differing(withOutlier.recs)} (unbounded watermark: ${differing(unbounded.recs)}) closedIdle clean=${clean.stats.closedIdle} outlier=${withOutlier.stats.closedIdle} (unbounded: ${unbounded.stats.closedIdle}) live clean=${clean.stats.liveSessions} outlier=${withOutlier.stats.liveSessions} heldOutliers=${withOutlier.stats.watermarkOutliers}`);
    expect(differing(withOutlier.recs)).toBe(0);
    expect(withOutlier.stats.closedIdle).toBe(clean.stats.closedIdle);
    expect(clean.stats.closedIdle).toBeGreaterThan(95_000);
    expect(withOutlier.stats.liveSessions).toBe(clean.stats.liveSessions + 1);
    expect(differing(unbounded.recs)).toBeGreaterThan(0);
  });
});
