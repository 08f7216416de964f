// RELIABILITY.md 13: random bytes and mutated valid messages into the decoder and validator: no crash, no
// hang, every one classified (a valid event or a dead letter with a known reason code).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeClickEvent, JsonCodec, type Codec } from '../../src/events/codec.js';
import { MsgpackCodec } from '../../src/events/msgpack-codec.js';
import type { RecordMeta } from '../../streaming/kafka/click-source.js';
import { decodeRecord } from '../../streaming/kafka/decode-record.js';
import { BASE_TIME } from './fixtures/events.js';

const meta: RecordMeta = { topic: 't', partition: 0, offset: '0', recordTime: 0, rebuild: false };
const opts = { maxMessageBytes: 4096, maxFutureMs: 86_400_000 };
const reasons = new Set(['DECODE_FAILED', 'INVALID_EVENT', 'MESSAGE_TOO_LARGE']);
const NOW = BASE_TIME + 86_400_000;

function classify(codec: Codec, bytes: Uint8Array): string {
  const r = decodeRecord(codec, Buffer.from(bytes), null, meta, opts, NOW);
  if (r.ok) {
    const e = r.input.event;
    expect(typeof e.sessionId).toBe('string');
    expect(['string', 'number']).toContain(typeof e.itemId);
    expect(Number.isFinite(e.timestamp)).toBe(true);
    return 'ok';
  }
  expect(reasons).toContain(r.deadLetter.reason);
  expect(r.deadLetter.value).not.toBeNull();
  return r.deadLetter.reason;
}

const validEvent = fc.record({
  sessionId: fc.string({ minLength: 1, maxLength: 20 }),
  itemId: fc.oneof(fc.integer({ min: 0, max: 1e9 }), fc.string({ minLength: 1, maxLength: 12 })),
  timestamp: fc.integer({ min: BASE_TIME, max: NOW }),
});

/** Byte-level mutations: flip, truncate, insert, duplicate a slice. */
const mutation = fc.tuple(fc.constantFrom('flip', 'truncate', 'insert', 'dup'), fc.nat(), fc.integer({ min: 0, max: 255 }));
function mutate(bytes: Buffer, [kind, pos, byte]: [string, number, number]): Buffer {
  const i = bytes.length === 0 ? 0 : pos % bytes.length;
  if (kind === 'flip') { const b = Buffer.from(bytes); if (b.length > 0) b[i] = byte; return b; }
  if (kind === 'truncate') return bytes.subarray(0, i);
  if (kind === 'insert') return Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
  return Buffer.concat([bytes, bytes.subarray(i)]);
}

describe.each([new MsgpackCodec(), new JsonCodec()])('decodeRecord fuzz ($name)', (codec) => {
  it('classifies random bytes without throwing', () => {
    const seen = new Map<string, number>();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      const c = classify(codec, bytes);
      seen.set(c, (seen.get(c) ?? 0) + 1);
    }), { seed: 13, numRuns: 3000 });
    expect(seen.get('DECODE_FAILED') ?? 0).toBeGreaterThan(0);
  });

  it('classifies mutated valid messages without throwing; unmutated ones decode', () => {
    const seen = new Map<string, number>();
    fc.assert(fc.property(validEvent, fc.array(mutation, { minLength: 0, maxLength: 3 }), (ev, muts) => {
      let bytes = encodeClickEvent(codec, ev);
      if (muts.length === 0) expect(classify(codec, bytes)).toBe('ok');
      for (const m of muts) bytes = mutate(bytes, m);
      const c = classify(codec, bytes);
      seen.set(c, (seen.get(c) ?? 0) + 1);
    }), { seed: 31, numRuns: 3000 });
    expect(seen.get('ok') ?? 0).toBeGreaterThan(0);
    expect((seen.get('DECODE_FAILED') ?? 0) + (seen.get('INVALID_EVENT') ?? 0)).toBeGreaterThan(0);
  });

  it('bounds timestamps against the wall clock: 1e20, beyond maxFutureMs, before maxPastMs are INVALID_EVENT', () => {
    const at = (timestamp: number, o: Partial<typeof opts & { maxPastMs: number }> = {}) => {
      const r = decodeRecord(codec, encodeClickEvent(codec, { sessionId: 's', itemId: 1, timestamp }), null, meta, { ...opts, ...o }, NOW);
      return r.ok ? 'ok' : `${r.deadLetter.reason}: ${r.deadLetter.message}`;
    };
    expect(at(1e20)).toMatch(/^INVALID_EVENT: timestamp 100000000000000000000 is more than 86400000 ms ahead of the wall clock/);
    expect(at(NOW + 23 * 3_600_000)).toBe('ok');
    expect(at(NOW + 25 * 3_600_000)).toMatch(/^INVALID_EVENT/);
    expect(at(NOW - 2 * 3_600_000, { maxPastMs: 3_600_000 })).toMatch(/^INVALID_EVENT: .* behind the wall clock/);
    expect(at(NOW - 2 * 3_600_000)).toBe('ok');
    expect(at(12)).toMatch(/^INVALID_EVENT: timestamp 12 is before the accepted minimum/);
  });

  it('rejects oversized records before decoding them', () => {
    const r = decodeRecord(codec, Buffer.alloc(5000, 0x20), null, meta, opts, NOW);
    expect(r.ok ? 'ok' : r.deadLetter.reason).toBe('MESSAGE_TOO_LARGE');
  });
});
