import { describe, expect, it } from 'vitest';
import { validateClickEvent } from '../../../src/events/click-event.js';
import { InvalidEventError } from '../../../src/errors.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidEventError);
    return (err as InvalidEventError).field;
  }
  return undefined;
}

describe('validateClickEvent', () => {
  it('accepts a full event and keeps optional fields', () => {
    const ev = validateClickEvent({ sessionId: 's', itemId: 'i', timestamp: 5, eventType: 'click', userId: 'u', eventId: 'e', extra: 1 });
    expect(ev).toEqual({ sessionId: 's', itemId: 'i', timestamp: 5, eventType: 'click', userId: 'u', eventId: 'e' });
  });
  it('turns numeric session ids into strings and keeps integer item ids', () => {
    expect(validateClickEvent({ sessionId: 7, itemId: 9, timestamp: 1 })).toEqual({ sessionId: '7', itemId: 9, timestamp: 1 });
  });
  it.each([
    [null, '$'],
    [[1, 2], '$'],
    [{ itemId: 1, timestamp: 1 }, 'sessionId'],
    [{ sessionId: '', itemId: 1, timestamp: 1 }, 'sessionId'],
    [{ sessionId: {}, itemId: 1, timestamp: 1 }, 'sessionId'],
    [{ sessionId: 's', timestamp: 1 }, 'itemId'],
    [{ sessionId: 's', itemId: 1.5, timestamp: 1 }, 'itemId'],
    [{ sessionId: 's', itemId: true, timestamp: 1 }, 'itemId'],
    [{ sessionId: 's', itemId: '', timestamp: 1 }, 'itemId'],
    [{ sessionId: 's', itemId: 1 }, 'timestamp'],
    [{ sessionId: 's', itemId: 1, timestamp: '2020' }, 'timestamp'],
    [{ sessionId: 's', itemId: 1, timestamp: Number.NaN }, 'timestamp'],
    [{ sessionId: 's', itemId: 1, timestamp: -1 }, 'timestamp'],
    [{ sessionId: 's', itemId: 1, timestamp: 1, eventType: 3 }, 'eventType'],
    [{ sessionId: 's', itemId: 1, timestamp: 1, eventId: 'x'.repeat(600) }, 'eventId'],
  ])('rejects %j naming field %s', (value, field) => {
    expect(fieldOf(() => validateClickEvent(value))).toBe(field);
  });
  it('enforces timestamp bounds when given', () => {
    expect(fieldOf(() => validateClickEvent({ sessionId: 's', itemId: 1, timestamp: 100 }, { maxTimestamp: 50 }))).toBe('timestamp');
    expect(fieldOf(() => validateClickEvent({ sessionId: 's', itemId: 1, timestamp: 10 }, { minTimestamp: 50 }))).toBe('timestamp');
  });
});
