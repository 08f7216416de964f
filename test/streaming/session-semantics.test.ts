// RELIABILITY.md 11 (no broker): session semantics on the path the Kafka worker drives — ClickPipeline.process
// over record batches cut into steps — and determinism: replaying the same records twice, or in different
// batch/step sizes (Kafka fetch sizes vary run to run), gives identical recommendations.
import { describe, expect, it } from 'vitest';
import type { ClickEvent } from '../../src/events/click-event.js';
import { ClickPipeline, type PipelineOutput } from '../../src/pipeline/click-pipeline.js';
import { BASE_TIME, makeEvents } from './fixtures/events.js';
import { HistoryScorer, testVocabulary } from './fixtures/scorers.js';

const MIN = 60_000;

function pipeline(): ClickPipeline {
  return new ClickPipeline(new HistoryScorer(50), testVocabulary(50), {
    k: 5, sessions: { idleTimeoutMs: 30 * MIN, allowedLatenessMs: MIN, outOfOrderToleranceMs: 5 * MIN, maxItems: 4, dedupeWindow: 8 },
  });
}

/** Runs events through the pipeline in steps of `step`, as the worker does with a fetched batch. */
async function run(p: ClickPipeline, events: readonly ClickEvent[], step: number): Promise<PipelineOutput<number>[]> {
  const out: PipelineOutput<number>[] = [];
  for (let i = 0; i < events.length; i += step) {
    out.push(...await p.process(events.slice(i, i + step).map((event, j) => ({ event, meta: i + j }))));
  }
  return out;
}

const ev = (sessionId: string, itemId: number, minutes: number, eventId?: string): ClickEvent => ({ sessionId, itemId, timestamp: BASE_TIME + minutes * MIN, ...(eventId ? { eventId } : {}) });

describe('session semantics on the worker path', () => {
  it('splits a session after an idle gap; the new one starts from its first item', async () => {
    const p = pipeline();
    const out = await run(p, [ev('a', 1, 0), ev('a', 2, 1), ev('a', 3, 45)], 10);
    expect(out.map((o) => o.outcome)).toEqual(['appended', 'appended', 'appended']);
    const s = p.sessionizer.get('a')!;
    expect(s.generation).toBe(1);
    expect(s.items).toEqual([3]);
    expect(p.stats().split).toBe(1);
  });

  it('places out-of-order events within tolerance in time order and drops older ones', async () => {
    const p = pipeline();
    const out = await run(p, [ev('a', 1, 0), ev('a', 2, 10), ev('a', 3, 8), ev('a', 4, 1)], 10);
    expect(out.map((o) => o.outcome)).toEqual(['appended', 'appended', 'reordered', 'too-late']);
    expect(p.sessionizer.get('a')!.items).toEqual([1, 3, 2]);
    expect(out[3]!.recommendation).toBeUndefined();
  });

  it('ignores duplicate event ids (a re-delivered Kafka record) without emitting', async () => {
    const p = pipeline();
    const out = await run(p, [ev('a', 1, 0, 'x1'), ev('a', 2, 1, 'x2'), ev('a', 2, 1, 'x2')], 10);
    expect(out.map((o) => o.outcome)).toEqual(['appended', 'appended', 'duplicate']);
    expect(out[2]!.recommendation).toBeUndefined();
    expect(p.sessionizer.get('a')!.items).toEqual([1, 2]);
  });

  it('keeps at most maxItems per session', async () => {
    const p = pipeline();
    await run(p, [1, 2, 3, 4, 5, 6].map((item, i) => ev('a', item, i)), 10);
    expect(p.sessionizer.get('a')!.items).toEqual([3, 4, 5, 6]);
  });

  it('closes idle sessions once the watermark passes their deadline plus the grace period', async () => {
    const p = pipeline();
    await run(p, [ev('a', 1, 0), ev('b', 2, 30.5)], 10);
    expect(p.sessionizer.get('a')).toBeDefined();
    // A jump in event time beyond maxWatermarkJumpMs (the 1 min grace) is held until a later event confirms it.
    await run(p, [ev('b', 3, 32), ev('b', 4, 32.5)], 10);
    expect(p.sessionizer.get('a')).toBeUndefined();
  });

  it('replaying the same records twice, in any step size, gives identical recommendations', async () => {
    const events = makeEvents(3_000, 120, 50, 21).map((e, i) => (i % 17 === 0 ? { ...e, timestamp: e.timestamp - 90_000 } : e));
    const recs = async (step: number) => (await run(pipeline(), events, step)).map((o) => JSON.stringify([o.outcome, o.recommendation?.items, o.recommendation?.scores]));
    const reference = await recs(500);
    expect(await recs(500)).toEqual(reference);
    expect(await recs(7)).toEqual(reference);
    expect(await recs(3_000)).toEqual(reference);
    expect(reference.filter((r) => r.startsWith('["reordered"')).length).toBeGreaterThan(0);
  });
});
