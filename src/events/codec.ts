import { DecodeError, NextclickError } from '../errors.js';
import { validateClickEvent, type ClickEvent, type EventValidationOptions } from './click-event.js';

/** Version of the wire schema of click events and recommendations; carried in every payload/header. */
export const SCHEMA_VERSION = 1;

/**
 * Turns values into bytes and back. One codec serves training files, replay and Kafka.
 * `decode` throws {@link DecodeError} for undecodable bytes; {@link decodeClickEvent} adds validation.
 */
export interface Codec {
  readonly name: 'json' | 'msgpack';
  /** MIME-ish content type, written to Kafka headers. */
  readonly contentType: string;
  encode(value: unknown): Buffer;
  decode(bytes: Uint8Array): unknown;
}

/** UTF-8 JSON codec. */
export class JsonCodec implements Codec {
  readonly name = 'json' as const;
  readonly contentType = 'application/json';
  encode(value: unknown): Buffer {
    return Buffer.from(JSON.stringify(value), 'utf8');
  }
  decode(bytes: Uint8Array): unknown {
    try {
      return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch (err) {
      throw new DecodeError(`not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
}

export interface DecodeOptions extends EventValidationOptions {
  /** Largest accepted encoded message, in bytes. @defaultValue 1 MiB */
  readonly maxBytes?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Decodes and validates one click event. Throws a {@link NextclickError} whose code says why
 * (`MESSAGE_TOO_LARGE`, `DECODE_FAILED`, `INVALID_EVENT`); callers route it to a dead-letter sink.
 * Accepts a bare event or an envelope `{ v: SCHEMA_VERSION, ...event }`.
 */
export function decodeClickEvent(codec: Codec, bytes: Uint8Array, options: DecodeOptions = {}): ClickEvent {
  const max = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (bytes.byteLength > max) {
    throw new NextclickError('MESSAGE_TOO_LARGE', `message of ${bytes.byteLength} bytes exceeds the ${max}-byte limit`, {
      context: { bytes: bytes.byteLength, limit: max },
    });
  }
  const value = codec.decode(bytes);
  if (value !== null && typeof value === 'object' && 'v' in value) {
    const v = (value as { v: unknown }).v;
    if (typeof v === 'number' && v > SCHEMA_VERSION) {
      throw new DecodeError(`schema version ${v} is newer than this reader (${SCHEMA_VERSION}); upgrade nextclick`);
    }
  }
  return validateClickEvent(value, options);
}

/** Encodes an event with its schema version. */
export function encodeClickEvent(codec: Codec, event: ClickEvent): Buffer {
  return codec.encode({ v: SCHEMA_VERSION, ...event });
}
