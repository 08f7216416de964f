import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { NextclickError } from '../errors.js';

/** Identifies a data file a report was computed on. */
export interface DataFingerprint {
  /** What the file is for, e.g. `train`, `test`. */
  readonly role: string;
  readonly name: string;
  /** Absolute path on the machine that wrote the report. */
  readonly path: string;
  readonly bytes: number;
  /** SHA-256 of the file's bytes, hex. */
  readonly sha256: string;
  /** Events and sessions read from it, when known. */
  readonly events?: number;
  readonly sessions?: number;
}

/** Size and SHA-256 of a file (streamed, any size). Counts are added by the caller, who read the events. */
export async function fingerprintFile(path: string, role: string, counts: { events?: number; sessions?: number } = {}): Promise<DataFingerprint> {
  let bytes: number;
  try {
    bytes = (await stat(path)).size;
  } catch (err) {
    throw new NextclickError('FILE_NOT_FOUND', `cannot read ${path}: ${(err as Error).message}; check the path`, { cause: err, context: { file: path } });
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { role, name: basename(path), path: resolve(path), bytes, sha256: hash.digest('hex'), ...counts };
}
