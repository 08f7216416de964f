import { NextclickError } from '../../src/errors.js';
import type { EventValidationOptions } from '../../src/events/click-event.js';
import { decodeClickEvent, type Codec } from '../../src/events/codec.js';
import type { DecodedRecord, RecordMeta } from './click-source.js';
import { UNDECODABLE_MARKER, UNDECODABLE_PAYLOAD_HEADER, UNDECODABLE_REASON_HEADER } from './compression.js';
import { headerString } from './headers.js';

/** Events before 2000-01-01Z are taken as broken clocks or unit mistakes (seconds for ms) unless `validation.minTimestamp` says otherwise. */
export const DEFAULT_MIN_TIMESTAMP = 946_684_800_000;

export interface RecordDecodeOptions {
  readonly maxMessageBytes: number;
  readonly validation?: EventValidationOptions;
  /** Clock-skew guard relative to `now`, ms; undefined disables it. */
  readonly maxFutureMs: number | undefined;
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
    const limits = [opts.validation?.maxTimestamp, opts.maxFutureMs === undefined ? undefined : now + opts.maxFutureMs].filter((x): x is number => x !== undefined);
    const maxTimestamp = limits.length > 0 ? Math.min(...limits) : undefined;
    const event = decodeClickEvent(codec, value, {
      minTimestamp: DEFAULT_MIN_TIMESTAMP, ...opts.validation, maxBytes: opts.maxMessageBytes, ...(maxTimestamp === undefined ? {} : { maxTimestamp }),
    });
    return { ok: true, input: { event, meta } };
  } catch (err) {
    const e = err instanceof NextclickError ? err : new NextclickError('INTERNAL', String((err as Error)?.message ?? err), { cause: err });
    return { ok: false, deadLetter: { meta, key, value, reason: e.code, message: e.message } };
  }
}
