import { Packr } from 'msgpackr';
import { DecodeError } from '../errors.js';
import { JsonCodec, type Codec } from './codec.js';

/** The pinned msgpackr options every nextclick msgpack reader and writer uses (codec, log files). */
export const MSGPACK_OPTIONS = {
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  moreTypes: false,
  bundleStrings: false,
} as const;

/**
 * MessagePack codec with pinned options. `useRecords: false` because Kafka messages are read independently
 * (shared record structures would make a message undecodable without its predecessors); int64 values decode
 * as numbers (`int64AsType: 'number'`) because millisecond timestamps from Java/Go producers arrive as int64; `mapsAsObjects` so decoded values look like JSON.
 */
export class MsgpackCodec implements Codec {
  readonly name = 'msgpack' as const;
  readonly contentType = 'application/msgpack';
  private readonly packr = new Packr(MSGPACK_OPTIONS);

  encode(value: unknown): Buffer {
    return this.packr.pack(value);
  }

  decode(bytes: Uint8Array): unknown {
    if (bytes.byteLength === 0) throw new DecodeError('empty message');
    try {
      const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // unpackMultiple would accept trailing garbage silently; we require exactly one value.
      const values: unknown[] = [];
      this.packr.unpackMultiple(buf, (v: unknown) => {
        values.push(v);
        if (values.length > 1) return false;
        return true;
      });
      if (values.length !== 1) throw new DecodeError(`expected one msgpack value, found ${values.length > 1 ? 'trailing bytes' : 'none'}`);
      return values[0];
    } catch (err) {
      if (err instanceof DecodeError) throw err;
      throw new DecodeError(`not valid msgpack: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** The codec for a format name. */
export function codecFor(format: 'json' | 'msgpack'): Codec {
  return format === 'json' ? new JsonCodec() : new MsgpackCodec();
}
