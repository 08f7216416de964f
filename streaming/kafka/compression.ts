import { gunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { InvalidOptionError, NextclickError } from '../../src/errors.js';

// kafkajs is CommonJS and Node's ESM loader does not see these two as named exports.
const { CompressionCodecs, CompressionTypes } = kafkajs;
type CompressionTypes = kafkajs.CompressionTypes;

/**
 * Kafka record-batch compression for kafkajs, which ships gzip only (snappy, lz4 and zstd batches make it throw
 * "… compression not implemented" for the whole fetch, every partition of it, on every restart).
 *
 * Codec packages (see streaming/README.md "Compression" for the choice): `snappy` and `lz4-napi` (napi-rs) and
 * `@mongodb-js/zstd` 1.x (napi-rs) ship prebuilt binaries as per-platform optional dependencies — nothing runs at
 * install time. They load lazily, on the first batch that needs them.
 *
 * A batch that cannot be decompressed (codec package missing on this platform, corrupt payload) must not stop
 * the worker: decompression never throws here. It returns placeholder records instead — one per record of the
 * batch, with the batch's offsets — whose value is {@link UNDECODABLE_MARKER}; the worker dead-letters them with
 * reason `DECOMPRESS_FAILED` and moves on (see decode-record.ts).
 */
export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Value of a placeholder record standing for a record of an undecompressable batch. */
export const UNDECODABLE_MARKER = Buffer.from('\u0000nextclick:undecodable-batch\u0000');
/** Header of a placeholder record: why its batch could not be decompressed. */
export const UNDECODABLE_REASON_HEADER = 'nextclick-decompress-error';
/** Header of the first placeholder record of a batch: the compressed record bytes, as fetched (≤ 1 MiB). */
export const UNDECODABLE_PAYLOAD_HEADER = 'nextclick-compressed-records';
const MAX_PAYLOAD_BYTES = 1024 * 1024;

interface RawCodec {
  compress(data: Buffer): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

/** xerial snappy-java framing, written by the Java client: magic, version, compatible version, then [int32 length][block]… */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_BLOCK = 32 * 1024;

const loaders: Record<Exclude<CompressionName, 'none'>, () => Promise<RawCodec>> = {
  gzip: async () => ({ compress: promisify(gzip), decompress: promisify(gunzip) }),
  snappy: async () => {
    const { compressSync, uncompressSync } = await import('snappy');
    const raw = (b: Buffer) => uncompressSync(b, { asBuffer: true }) as Buffer;
    return {
      // Java consumers read both framed and raw snappy; frame it as snappy-java does.
      compress: async (data) => {
        const parts: Buffer[] = [XERIAL_MAGIC, int32(1), int32(1)];
        for (let i = 0; i < data.length; i += XERIAL_BLOCK) {
          const block = compressSync(data.subarray(i, i + XERIAL_BLOCK));
          parts.push(int32(block.length), block);
        }
        return Buffer.concat(parts);
      },
      decompress: async (data) => {
        if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return raw(data);
        const out: Buffer[] = [];
        for (let pos = 16; pos < data.length;) {
          if (pos + 4 > data.length) throw new Error('truncated snappy-java frame');
          const len = data.readInt32BE(pos);
          if (len < 0 || pos + 4 + len > data.length) throw new Error('truncated snappy-java block');
          out.push(raw(data.subarray(pos + 4, pos + 4 + len)));
          pos += 4 + len;
        }
        return Buffer.concat(out);
      },
    };
  },
  lz4: async () => {
    // Kafka (magic v2) uses the standard LZ4 frame format; no content checksum, as the Java client writes it.
    const { compressFrame, decompressFrame } = await import('lz4-napi');
    return { compress: (d) => compressFrame(d, { contentChecksum: false, blockChecksums: false }), decompress: (d) => decompressFrame(d) };
  },
  zstd: async () => {
    const { compress, decompress } = await import('@mongodb-js/zstd');
    return { compress: (d) => compress(d, 3), decompress: (d) => decompress(d) };
  },
};

const loaded = new Map<string, Promise<RawCodec>>();

/** Loads a codec (once); rejects with a typed error naming the package when it is not usable on this platform. */
export function loadCompression(name: Exclude<CompressionName, 'none'>): Promise<RawCodec> {
  let p = loaded.get(name);
  if (!p) {
    p = loaders[name]().catch((err: unknown) => {
      loaded.delete(name);
      throw new NextclickError('KAFKA', `${name} compression is unavailable on this platform (${(err as Error).message}); reinstall the package, or choose another --compression`, { cause: err });
    });
    loaded.set(name, p);
  }
  return p;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function varint(n: number): Buffer {
  let z = (n << 1) ^ (n >> 31);
  const out: number[] = [];
  while ((z & ~0x7f) !== 0) {
    out.push((z & 0x7f) | 0x80);
    z >>>= 7;
  }
  out.push(z);
  return Buffer.from(out);
}

function bytesField(b: Buffer | null): Buffer {
  return b === null ? varint(-1) : Buffer.concat([varint(b.length), b]);
}

/** One record (Kafka record format v2): length, attributes, timestamp delta, offset delta, key, value, headers. */
function placeholderRecord(offsetDelta: number, reason: Buffer, payload: Buffer | undefined): Buffer {
  const headers = [[UNDECODABLE_REASON_HEADER, reason] as const, ...(payload ? [[UNDECODABLE_PAYLOAD_HEADER, payload] as const] : [])];
  const body = Buffer.concat([
    Buffer.from([0]), varint(0), varint(offsetDelta), bytesField(null), bytesField(UNDECODABLE_MARKER),
    varint(headers.length), ...headers.flatMap(([k, v]) => [bytesField(Buffer.from(k)), bytesField(v)]),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

/**
 * The "decompressed" bytes of a batch that could not be decompressed: kafkajs reads exactly as many records as
 * the batch header counts, and only through `buffer[i]` and `buffer.slice(a, b)`, so this stands for an
 * unbounded run of placeholder records with offset deltas 0, 1, 2… generated as they are read.
 */
function placeholderRecords(reason: string, compressed: Buffer): Buffer {
  const why = Buffer.from(reason.slice(0, 500));
  let buf = placeholderRecord(0, why, compressed.length <= MAX_PAYLOAD_BYTES ? compressed : undefined);
  let next = 1;
  const ensure = (end: number) => {
    if (end <= buf.length) return;
    const more: Buffer[] = [buf];
    let len = buf.length;
    while (len < end) {
      const r = placeholderRecord(next++, why, undefined);
      more.push(r);
      len += r.length;
    }
    buf = Buffer.concat(more);
  };
  return new Proxy(Buffer.alloc(0), {
    get(_target, prop) {
      if (prop === 'slice' || prop === 'subarray') return (a: number, b: number) => { ensure(b); return buf.subarray(a, b); };
      if (typeof prop === 'string' && /^\d+$/.test(prop)) { ensure(Number(prop) + 1); return buf[Number(prop)]; }
      if (prop === 'length') return Number.MAX_SAFE_INTEGER;
      const v = Reflect.get(buf, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(buf) : v;
    },
  });
}

const kafkajsType: Record<Exclude<CompressionName, 'none'>, CompressionTypes> = {
  gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD,
};

let registered = false;

/**
 * Registers gzip, snappy, lz4 and zstd with kafkajs (process-wide, idempotent). Decompression never throws (see
 * the module comment); compression rejects with a typed error when the codec is unavailable.
 */
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  for (const name of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const codec = {
      async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
        return (await loadCompression(name)).compress(encoder.buffer);
      },
      async decompress(data: Buffer): Promise<Buffer> {
        try {
          return await (await loadCompression(name)).decompress(data);
        } catch (err) {
          return placeholderRecords(`${name} batch could not be decompressed: ${(err as Error).message}`, data);
        }
      },
    };
    (CompressionCodecs as Record<number, () => unknown>)[kafkajsType[name]] = () => codec;
  }
}

/** The kafkajs compression type for an output compression name; throws {@link InvalidOptionError} for unknown names. */
export function compressionType(name: string): CompressionTypes {
  if (name === 'none') return CompressionTypes.None;
  if (!(name in kafkajsType)) throw new InvalidOptionError('compression', `compression must be one of ${COMPRESSION_NAMES.join(', ')}, got "${name}"`);
  return kafkajsType[name as Exclude<CompressionName, 'none'>];
}
