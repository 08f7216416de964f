import { readFile, rename, writeFile } from 'node:fs/promises';
import { ModelFormatError } from '../errors.js';

/** Typed arrays a baseline stores. */
export type StoredArray = Int32Array | Float32Array | Float64Array;

const MAGIC = 'NCARR1';
const ctors = { Int32Array, Float32Array, Float64Array } as const;
type CtorName = keyof typeof ctors;

interface Header {
  readonly arrays: { name: string; type: CtorName; length: number; offset: number }[];
}

/**
 * Writes named typed arrays to one compact binary file: `NCARR1`, a uint32 header length, a JSON header
 * (names, types, lengths, byte offsets), then the raw little-endian data, each array 8-byte aligned.
 * Written via a temporary file and rename so a crash never leaves half a model.
 */
export async function writeArrayFile(path: string, arrays: Record<string, StoredArray>): Promise<void> {
  const entries = Object.entries(arrays);
  let offset = 0;
  const header: Header = { arrays: [] };
  for (const [name, a] of entries) {
    header.arrays.push({ name, type: a.constructor.name as CtorName, length: a.length, offset });
    offset += Math.ceil(a.byteLength / 8) * 8;
  }
  const json = Buffer.from(JSON.stringify(header));
  const pre = Math.ceil((MAGIC.length + 4 + json.length) / 8) * 8;
  const buf = Buffer.alloc(pre + offset);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(json.length, MAGIC.length);
  json.copy(buf, MAGIC.length + 4);
  entries.forEach(([, a], i) => {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, pre + header.arrays[i]!.offset);
  });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, buf);
  await rename(tmp, path);
}

/** Reads a file written by {@link writeArrayFile}; checks every name in `expected` is present with its type. */
export async function readArrayFile(path: string, expected: Record<string, CtorName>): Promise<Record<string, StoredArray>> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    throw new ModelFormatError(`cannot read model data ${path}: ${(err as Error).message}; re-train the model`, { cause: err });
  }
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new ModelFormatError(`${path} is not a nextclick array file`);
  const len = buf.readUInt32LE(MAGIC.length);
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + len)) as Header;
  } catch (err) {
    throw new ModelFormatError(`${path} has a corrupt header`, { cause: err });
  }
  const pre = Math.ceil((MAGIC.length + 4 + len) / 8) * 8;
  const out: Record<string, StoredArray> = {};
  for (const e of header.arrays ?? []) {
    const Ctor = ctors[e.type];
    if (!Ctor || !Number.isInteger(e.length) || e.length < 0 || !Number.isInteger(e.offset) || e.offset < 0) throw new ModelFormatError(`${path}: bad entry for "${e.name}"`);
    const bytes = e.length * Ctor.BYTES_PER_ELEMENT;
    if (pre + e.offset + bytes > buf.length) throw new ModelFormatError(`${path} is truncated (array "${e.name}")`);
    // Copy into a fresh, aligned buffer (the file buffer's byteOffset may not be aligned).
    const copy = new Uint8Array(bytes);
    buf.copy(copy, 0, pre + e.offset, pre + e.offset + bytes);
    out[e.name] = new Ctor(copy.buffer);
  }
  for (const [name, type] of Object.entries(expected)) {
    const a = out[name];
    if (!a || a.constructor.name !== type) throw new ModelFormatError(`${path} lacks array "${name}" of type ${type}; re-train the model`);
  }
  return out;
}
