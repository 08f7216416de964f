import { describe, expect, it } from 'vitest';
import { eventIdHash, Sessionizer } from '../../../src/sessions/sessionizer.js';

describe('event-id de-duplication by 53-bit hash', () => {
  it('gives distinct hashes to 200k distinct ids (uuid-like, and ids one character apart)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) {
      seen.add(eventIdHash(`${i.toString(16).padStart(8, '0')}-4a1b-9c2d-8e3f-${(i * 7919).toString(16).padStart(12, '0')}`));
      seen.add(eventIdHash(`e${i}`));
    }
    expect(seen.size).toBe(200_000);
    expect(eventIdHash('ab')).not.toBe(eventIdHash('ba'));
    for (const h of seen) { expect(Number.isSafeInteger(h)).toBe(true); break; }
  });

  it('flags a repeat inside the window only, per session', () => {
    const s = new Sessionizer({ dedupeWindow: 3 });
    const ev = (sessionId: string, t: number, eventId: string) => ({ sessionId, timestamp: t, eventId });
    expect(s.ingest(ev('a', 1, 'x'), 1).outcome).toBe('appended');
    expect(s.ingest(ev('b', 1, 'x'), 1).outcome).toBe('appended'); // other session
    expect(s.ingest(ev('a', 2, 'x'), 1).outcome).toBe('duplicate');
    for (const id of ['p', 'q', 'r']) s.ingest(ev('a', 3, id), 2);
    // 'x' slid out of the 3-id window.
    expect(s.ingest(ev('a', 4, 'x'), 1).outcome).toBe('appended');
  });
});
