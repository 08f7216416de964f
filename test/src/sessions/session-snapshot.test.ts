import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import { decodeEventTimeState, decodeSessionSnapshot, encodeEventTimeState, encodeSessionSnapshot } from '../../../src/sessions/session-snapshot.js';
import { Sessionizer } from '../../../src/sessions/sessionizer.js';
import type { SessionizerOptions } from '../../../src/sessions/sessionizer-options.js';

const MIN = 60_000;
type Ev = { sessionId: string; timestamp: number; eventId: string; item: number };

/** A compacted changelog in memory: the latest snapshot per changed key, null once closed. */
function writeChanges(s: Sessionizer, log: Map<string, Buffer | null>): void {
  for (const key of s.takeChanges()) {
    const session = s.get(key);
    log.set(key, session ? encodeSessionSnapshot(session, (ix) => `i${ix}`) : null);
  }
}

function restoreFrom(log: Map<string, Buffer | null>, eventTime: ReturnType<Sessionizer['eventTimeState']>, options: SessionizerOptions): Sessionizer {
  const s = new Sessionizer(options);
  s.trackChanges();
  const sessions = [...log].filter((e): e is [string, Buffer] => e[1] !== null).map(([k, v]) => decodeSessionSnapshot(k, v, (id) => Number(String(id).slice(1))));
  s.restore(sessions, decodeEventTimeState(encodeEventTimeState(eventTime)));
  return s;
}

/** What a run observably does: each event's outcome and window, and every closed session. */
function drive(s: Sessionizer, events: readonly Ev[], batch: number, log: Map<string, Buffer | null>, trace: string[]): void {
  const onClosed = ({ session, reason }: { session: { key: string; generation: number; items: number[] }; reason: string }) => { trace.push(`closed ${session.key}/${session.generation} ${reason} [${session.items.join(',')}]`); };
  s.on('session:closed', onClosed);
  events.forEach((e, i) => {
    const r = s.ingest(e, e.item);
    trace.push(`${e.eventId} ${r.outcome} ${r.session.generation} [${r.session.items.join(',')}] wm=${s.watermark}`);
    if ((i + 1) % batch === 0) {
      s.expire();
      writeChanges(s, log);
    }
  });
  s.expire();
  writeChanges(s, log);
  s.off('session:closed', onClosed);
}

const options: SessionizerOptions = { idleTimeoutMs: 10 * MIN, allowedLatenessMs: MIN, outOfOrderToleranceMs: 2 * MIN, maxItems: 4, maxSessions: 6, dedupeWindow: 3 };

describe('session snapshots and Sessionizer.restore', () => {
  it('a sessionizer restored from its changelog behaves exactly as one that never stopped (property)', () => {
    const event = fc.record({ s: fc.integer({ min: 0, max: 9 }), dt: fc.integer({ min: -3 * MIN, max: 6 * MIN }), item: fc.integer({ min: -1, max: 20 }), dup: fc.boolean(), outlier: fc.boolean() });
    fc.assert(fc.property(fc.array(event, { minLength: 2, maxLength: 120 }), fc.integer({ min: 1, max: 119 }), fc.integer({ min: 1, max: 7 }), (raw, cutAt, batch) => {
      let t = 1_000 * MIN;
      const events: Ev[] = raw.map((r, i) => {
        t += Math.max(0, r.dt);
        // Late events (dt < 0), duplicate ids and far-future outliers exercise every bookkeeping path.
        const ts = r.outlier && i % 5 === 0 ? t + 90 * MIN : t + Math.min(0, r.dt);
        return { sessionId: `s${r.s}`, timestamp: ts, eventId: r.dup && i > 0 ? `e${i - 1}` : `e${i}`, item: r.item };
      });
      const cut = Math.min(cutAt, events.length - 1);
      // The reference: one sessionizer, no stop.
      const ref = new Sessionizer(options);
      ref.trackChanges();
      const refTrace: string[] = [];
      drive(ref, events.slice(0, cut), batch, new Map(), []);
      drive(ref, events.slice(cut), batch, new Map(), refTrace);
      // Stopped after `cut` events and restored from the changelog.
      const first = new Sessionizer(options);
      first.trackChanges();
      const log = new Map<string, Buffer | null>();
      drive(first, events.slice(0, cut), batch, log, []);
      const resumed = restoreFrom(log, first.eventTimeState(), options);
      const trace: string[] = [];
      drive(resumed, events.slice(cut), batch, log, trace);
      expect(trace).toEqual(refTrace);
      expect([...resumed.values()].map((s) => s.key)).toEqual([...ref.values()].map((s) => s.key));
    }), { seed: 18, numRuns: 300 });
  });

  it('tracks changes only when asked, and closes (not deletes) produce tombstones', () => {
    const s = new Sessionizer({ idleTimeoutMs: MIN, allowedLatenessMs: 0, outOfOrderToleranceMs: 0, maxWatermarkJumpMs: 60 * MIN });
    s.ingest({ sessionId: 'a', timestamp: 0 }, 1);
    expect(s.takeChanges()).toEqual([]);
    s.trackChanges();
    s.ingest({ sessionId: 'b', timestamp: 1 }, 2);
    s.ingest({ sessionId: 'c', timestamp: 10 * MIN }, 3);
    s.expire();
    const changed = s.takeChanges().sort();
    expect(changed).toEqual(['a', 'b', 'c']);
    expect(changed.filter((k) => s.get(k) === undefined).sort()).toEqual(['a', 'b']);
    s.delete('c');
    s.closeAll();
    expect(s.takeChanges()).toEqual([]);
  });

  it('maps items through external ids (a model change drops unknown items) and rejects corrupt bytes with DecodeError', () => {
    const s = new Sessionizer();
    for (let i = 0; i < 3; i++) s.ingest({ sessionId: 'a', timestamp: i * 1000 }, i);
    const bytes = encodeSessionSnapshot(s.get('a')!, (ix) => ['x', 'y', 'z'][ix]!);
    const back = decodeSessionSnapshot('a', bytes, (id) => (id === 'y' ? -1 : id === 'x' ? 7 : 9));
    expect(back.items).toEqual([7, 9]);
    expect(back.times).toEqual([0, 2000]);
    expect(() => decodeSessionSnapshot('a', Buffer.from('not msgpack at all'), () => 0)).toThrow(DecodeError);
    expect(() => decodeSessionSnapshot('a', bytes.subarray(0, bytes.length - 3), () => 0)).toThrow(DecodeError);
    expect(() => decodeSessionSnapshot('a', Buffer.from([0x81, 0xa1, 0x76, 0x02]), () => 0)).toThrow(/version 2/);
  });
});
