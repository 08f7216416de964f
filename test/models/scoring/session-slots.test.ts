import { describe, expect, it } from 'vitest';
import { SessionSlot, SessionSlots } from '../../../models/scoring/session-slots.js';
import { newSessionState } from '../../../src/sessions/session-state.js';

const sessions = (n: number, prefix = 's') => Array.from({ length: n }, (_, i) => newSessionState(`${prefix}${i}`, 0, 0));

describe('SessionSlots', () => {
  it('grows by doubling up to maxSlots, reuses released rows, and keeps a cleared session on its own row', () => {
    const slots = new SessionSlots({ initialSlots: 2, maxSlots: 8 });
    const ss = sessions(5);
    const got = slots.acquire(ss, new Set());
    expect(got.map((s) => s.index)).toEqual([0, 1, 2, 3, 4]);
    expect(slots.capacity).toBe(8);
    expect(ss.every((s, i) => s.modelState === got[i])).toBe(true);
    slots.release(ss[1]!);
    expect(ss[1]!.modelState).toBeUndefined();
    expect(got[1]!.index).toBe(-1);
    expect(slots.size).toBe(4);
    expect(slots.acquire(sessions(1, 'n'), new Set())[0]!.index).toBe(1); // the freed row
    // A reordered window clears modelState: the session gets its old row back, not a new one.
    ss[2]!.modelState = undefined;
    const again = slots.acquire([ss[2]!], new Set())[0]!;
    expect(again.index).toBe(2);
    expect(got[2]!.index).toBe(-1);
    expect(slots.size).toBe(5);
  });

  it('reclaims the least recently used slot outside the batch when full; a slot of another table is not valid', () => {
    const slots = new SessionSlots({ initialSlots: 4, maxSlots: 4 });
    const ss = sessions(4);
    slots.acquire(ss, new Set());
    slots.use(ss[0]!); // s1 is now the least recently used
    const keep = new Set([slots.use(ss[2]!)!]);
    const [fresh] = slots.acquire(sessions(1, 'n'), keep);
    expect(fresh!.index).toBe(1);
    expect(slots.use(ss[1]!)).toBeUndefined(); // reclaimed: its session will be rebuilt
    const other = new SessionSlots();
    const s = newSessionState('x', 0, 0);
    s.modelState = new SessionSlot(other, 0);
    expect(slots.use(s)).toBeUndefined();
    expect(() => slots.acquire(sessions(5, 'm'), new Set())).toThrow(/maxSlots/);
    expect(() => new SessionSlots({ maxSlots: 0 })).toThrow(/maxSlots/);
  });
});
