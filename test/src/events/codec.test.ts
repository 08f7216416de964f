import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClickEvent, encodeClickEvent, JsonCodec, SCHEMA_VERSION } from '../../../src/events/codec.js';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { NextclickError } from '../../../src/errors.js';
import type { ClickEvent } from '../../../src/events/click-event.js';

const codecs = [new JsonCodec(), new MsgpackCodec()];

const idString = fc.string({ minLength: 1, maxLength: 40 });
const eventArb: fc.Arbitrary<ClickEvent> = fc.record(
  {
    sessionId: idString,
    itemId: fc.oneof(idString, fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
    timestamp: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.double({ min: 0, max: 4e12, noNaN: true })),
    eventType: idString,
    userId: idString,
    eventId: idString,
  },
  { requiredKeys: ['sessionId', 'itemId', 'timestamp'] },
);

describe.each(codecs)('$name codec', (codec) => {
  it('round-trips any valid event (property)', () => {
    fc.assert(
      fc.property(eventArb, (ev) => {
        const back = decodeClickEvent(codec, encodeClickEvent(codec, ev));
        expect(back).toEqual(ev);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('classifies random bytes without crashing (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeClickEvent(codec, bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(NextclickError);
          expect(['DECODE_FAILED', 'INVALID_EVENT']).toContain((err as NextclickError).code);
        }
      }),
      { seed: 7, numRuns: 2000 },
    );
  });

  it('classifies mutated valid messages (fuzz)', () => {
    fc.assert(
      fc.property(eventArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (ev, pos, byte) => {
        const bytes = Buffer.from(encodeClickEvent(codec, ev));
        bytes[pos % bytes.length] = byte;
        try {
          const out = decodeClickEvent(codec, bytes);
          expect(typeof out.sessionId).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(NextclickError);
        }
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('rejects oversized messages before decoding', () => {
    const big = codec.encode({ sessionId: 's', itemId: 1, timestamp: 1, pad: 'x'.repeat(2 * 1024 * 1024) });
    expect(() => decodeClickEvent(codec, big)).toThrowError(expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }) as Error);
  });

  it('rejects a newer schema version with a clear message', () => {
    const bytes = codec.encode({ v: SCHEMA_VERSION + 1, sessionId: 's', itemId: 1, timestamp: 1 });
    expect(() => decodeClickEvent(codec, bytes)).toThrow(/upgrade nextclick/);
  });
});

describe('msgpack codec', () => {
  it('rejects trailing bytes and empty input', () => {
    const c = new MsgpackCodec();
    const ok = c.encode({ sessionId: 's', itemId: 1, timestamp: 1 });
    expect(() => c.decode(Buffer.concat([ok, Buffer.from([0x01])]))).toThrow(/trailing/);
    expect(() => c.decode(new Uint8Array(0))).toThrow(/empty/);
  });
  it('decodes int64 timestamps from other producers as numbers', () => {
    // 0xd3 = int64: a Java producer writes epoch-ms longs this way.
    const ts = 1_700_000_000_123;
    const b = Buffer.alloc(9);
    b[0] = 0xd3;
    b.writeBigInt64BE(BigInt(ts), 1);
    expect(new MsgpackCodec().decode(b)).toBe(ts);
  });
});
