import { NextclickError } from '../../src/errors.js';
import { DEFAULT_MIN_TIMESTAMP, type EventValidationOptions } from '../../src/events/click-event.js';
import { decodeClickEvent, type Codec } from '../../src/events/codec.js';
import type { DecodedRecord, RecordMeta } from './click-source.js';
import { UNDECODABLE_MARKER, UNDECODABLE_PAYLOAD_HEADER, UNDECODABLE_REASON_HEADER } from './compression.js';
import { headerString } from './headers.js';

export interface RecordDecodeOptions {
  readonly maxMessageBytes: number;
  readonly validation?: EventValidationOptions;
  /** Clock-skew guard relative to `now`, ms; undefined disables it. */
  readonly maxFutureMs: number | undefined;
  /** Oldest accepted event relative to `now`, ms; undefined disables it. */
  readonly maxPastMs?: number | undefined;
}

/**
 * Classifies one input record: a valid ClickEvent, or a dead letter with a reason code. Never throws, whatever
 * the bytes (fuzzed in test/streaming/decode-record.test.ts).
 */
export function decodeRecord(codec: Codec, value: Buffer | null, key: Buffer | null, meta: RecordMeta, opts: RecordDecodeOptions, now = Date.now(), headers?: Record<string, unknown>): DecodedRecord {
  if (value !== null && headers?.[UNDECODABLE_REASON_HEADER] !== undefined && value.equals(UNDECODABLE_MARKER)) {
    // A placeholder for a record of a batch that could not be decompressed (compression.ts). The record's own
    // bytes are unknowable; the batch's first placeholder carries the compressed bytes as fetched.
    const payload = headers[UNDECODABLE_PAYLOAD_HEADER];
    return { ok: false, deadLetter: { meta, key: null, value: Buffer.isBuffer(payload) ? payload : null, reason: 'DECOMPRESS_FAILED', message: headerString(headers, UNDECODABLE_REASON_HEADER) ?? 'batch could not be decompressed' } };
  }
  try {
    if (value === null) throw new NextclickError('DECODE_FAILED', 'record has no value (tombstone)');
    const event = decodeClickEvent(codec, value, {
      minTimestamp: DEFAULT_MIN_TIMESTAMP, ...opts.validation, maxBytes: opts.maxMessageBytes, now,
      maxFutureMs: opts.maxFutureMs, maxPastMs: opts.maxPastMs,
    });
    return { ok: true, input: { event, meta } };
  } catch (err) {
    const e = err instanceof NextclickError ? err : new NextclickError('INTERNAL', String((err as Error)?.message ?? err), { cause: err });
    return { ok: false, deadLetter: { meta, key, value, reason: e.code, message: e.message } };
  }
}
