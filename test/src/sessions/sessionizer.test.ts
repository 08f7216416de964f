import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sessionizer } from '../../../src/sessions/sessionizer.js';
import { InvalidOptionError } from '../../../src/errors.js';

const MIN = 60_000;
const ev = (sessionId: string, timestamp: number, eventId?: string) => ({ sessionId, timestamp, ...(eventId ? { eventId } : {}) });

describe('Sessionizer', () => {
  it('appends events and keeps a bounded window', () => {
    const s = new Sessionizer({ maxItems: 3 });
    for (let i = 0; i < 5; i++) s.ingest(ev('a', i * 1000), i);
    const a = s.get('a')!;
    expect(a.items).toEqual([2, 3, 4]);
    expect(a.times).toEqual([2000, 3000, 4000]);
    expect(a.eventCount).toBe(5);
  });

  it('ignores duplicate event ids within a session', () => {
    const s = new Sessionizer();
    expect(s.ingest(ev('a', 1, 'e1'), 1).outcome).toBe('appended');
    expect(s.ingest(ev('a', 2, 'e1'), 2).outcome).toBe('duplicate');
    expect(s.get('a')!.items).toEqual([1]);
    expect(s.stats().duplicates).toBe(1);
  });

  it('places out-of-order events within tolerance and clears model state', () => {
    const s = new Sessionizer({ outOfOrderToleranceMs: 5 * MIN });
    s.ingest(ev('a', 10 * MIN), 1);
    s.ingest(ev('a', 12 * MIN), 3);
    s.get('a')!.modelState = 'h';
    const r = s.ingest(ev('a', 11 * MIN), 2);
    expect(r.outcome).toBe('reordered');
    expect(r.session.items).toEqual([1, 2, 3]);
    expect(r.session.times).toEqual([10 * MIN, 11 * MIN, 12 * MIN]);
    expect(r.session.modelState).toBeUndefined();
    expect(r.session.lastTime).toBe(12 * MIN);
  });

  it('drops events older than the tolerance and counts them', () => {
    const s = new Sessionizer({ outOfOrderToleranceMs: MIN });
    s.ingest(ev('a', 10 * MIN), 1);
    expect(s.ingest(ev('a', 5 * MIN), 2).outcome).toBe('too-late');
    expect(s.get('a')!.items).toEqual([1]);
    expect(s.stats().tooLate).toBe(1);
  });

  it('splits a session after an idle gap and emits session:closed', () => {
    const s = new Sessionizer({ idleTimeoutMs: 30 * MIN });
    const closed: string[] = [];
    s.on('session:closed', (p) => closed.push(`${p.session.key}/${p.session.generation}/${p.reason}`));
    s.ingest(ev('a', 0), 1);
    const r = s.ingest(ev('a', 31 * MIN), 2);
    expect(r.isNew).toBe(true);
    expect(r.session.generation).toBe(1);
    expect(r.session.items).toEqual([2]);
    expect(closed).toEqual(['a/0/split']);
  });

  it('expires idle sessions by event time only after the grace period', () => {
    const s = new Sessionizer({ idleTimeoutMs: 30 * MIN, allowedLatenessMs: 5 * MIN });
    const closed: string[] = [];
    s.on('session:closed', (p) => closed.push(`${p.session.key}:${p.reason}`));
    s.ingest(ev('a', 0), 1);
    s.ingest(ev('b', 33 * MIN), 2);
    expect(s.expire()).toHaveLength(0); // watermark 28 min < a's deadline 30 min
    // A late event for a (inside grace) still joins it.
    expect(s.ingest(ev('a', 1 * MIN), 3).isNew).toBe(false);
    // Event time jumped past maxWatermarkJumpMs (5 min): b@33 and b@40 are held; b@41 confirms up to b@40.
    s.ingest(ev('b', 40 * MIN), 4);
    s.ingest(ev('b', 41 * MIN), 5);
    expect(s.expire().map((x) => x.key)).toEqual(['a']);
    expect(closed).toEqual(['a:idle']);
    expect(s.get('a')).toBeUndefined();
  });

  it('one outlier moves the watermark by at most maxWatermarkJumpMs; a confirmed jump moves it', () => {
    const s = new Sessionizer({ idleTimeoutMs: 30 * MIN, allowedLatenessMs: MIN });
    s.ingest(ev('a', 0), 1);
    s.ingest(ev('x', 1e20), 2);
    expect(s.watermark).toBe(-MIN);
    s.ingest(ev('b', 23 * 60 * MIN), 3);
    // Held b@23h and the outlier: the watermark moves to the earlier of the two (a real jump), not to 1e20.
    expect(s.watermark).toBe(23 * 60 * MIN - MIN);
    s.ingest(ev('c', 23 * 60 * MIN + 0.5 * MIN), 4);
    expect(s.watermark).toBe(23 * 60 * MIN - 0.5 * MIN);
    expect(s.stats().watermarkOutliers).toBe(2);
    // A lone outlier within the bound moves it by at most the bound.
    s.ingest(ev('d', 23 * 60 * MIN + 1.5 * MIN), 5);
    expect(s.watermark).toBe(23 * 60 * MIN + 0.5 * MIN);
  });

  it('evicts the least recently used session beyond the cap and counts it', () => {
    const s = new Sessionizer({ maxSessions: 2 });
    const closed: string[] = [];
    s.on('session:closed', (p) => closed.push(`${p.session.key}:${p.reason}`));
    s.ingest(ev('a', 1), 1);
    s.ingest(ev('b', 2), 1);
    s.ingest(ev('a', 3), 2); // touch a: b becomes LRU
    s.ingest(ev('c', 4), 1);
    expect(closed).toEqual(['b:evicted']);
    expect(s.size).toBe(2);
    expect(s.stats().evicted).toBe(1);
  });

  it('records activity for out-of-vocabulary items without storing them', () => {
    const s = new Sessionizer();
    s.ingest(ev('a', 1), 1);
    const r = s.ingest(ev('a', 5), -1);
    expect(r.outcome).toBe('no-item');
    expect(r.session.items).toEqual([1]);
    expect(r.session.lastTime).toBe(5);
  });

  it('a listener that throws does not break ingestion', () => {
    const s = new Sessionizer({ maxSessions: 1 });
    s.on('session:closed', () => { throw new Error('boom'); });
    s.ingest(ev('a', 1), 1);
    expect(() => s.ingest(ev('b', 2), 1)).not.toThrow();
  });

  it('validates options with typed errors', () => {
    expect(() => new Sessionizer({ maxItems: 0 })).toThrow(InvalidOptionError);
    expect(() => new Sessionizer({ idleTimeoutMs: -1 })).toThrow(/idleTimeoutMs/);
    expect(() => new Sessionizer({ outOfOrderToleranceMs: 10, idleTimeoutMs: 5 })).toThrow(/outOfOrderToleranceMs/);
  });

  it('property: any interleaving keeps per-session windows time-ordered, bounded and equal to the in-order result', () => {
    const eventArb = fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), t: fc.integer({ min: 0, max: 20 * MIN }), item: fc.integer({ min: 0, max: 9 }) }), { maxLength: 80 });
    fc.assert(
      fc.property(eventArb, (events) => {
        const s = new Sessionizer({ maxItems: 6, idleTimeoutMs: 60 * MIN, outOfOrderToleranceMs: 60 * MIN, allowedLatenessMs: 60 * MIN });
        for (const e of events) s.ingest(ev(e.key, e.t), e.item);
        for (const st of s.values()) {
          expect(st.items.length).toBeLessThanOrEqual(6);
          expect(st.items.length).toBe(st.times.length);
          for (let i = 1; i < st.times.length; i++) expect(st.times[i]!).toBeGreaterThanOrEqual(st.times[i - 1]!);
          // Equal to the last 6 events of the key sorted stably by time.
          const mine = events.filter((e) => e.key === st.key).map((e, i) => ({ ...e, i }));
          mine.sort((x, y) => x.t - y.t || x.i - y.i);
          expect(st.times).toEqual(mine.slice(-6).map((e) => e.t));
        }
      }),
      { seed: 3, numRuns: 300 },
    );
  });

  it('property: replaying the same events twice gives identical state', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('x', 'y'), fc.integer({ min: 0, max: 100 * MIN }), fc.nat(5)), { maxLength: 60 }), (events) => {
        const run = () => {
          const s = new Sessionizer({ idleTimeoutMs: 30 * MIN, maxSessions: 1 });
          const log: string[] = [];
          s.on('session:closed', (p) => log.push(`${p.session.key}${p.reason}${p.session.items.join(',')}`));
          for (const [k, t, i] of events) log.push(s.ingest(ev(k, t), i).outcome);
          return log;
        };
        expect(run()).toEqual(run());
      }),
      { seed: 5, numRuns: 200 },
    );
  });
});
