import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { NextclickError, ParseError } from '../errors.js';

/** A batch of consecutive lines of a text file. */
export interface LineBatch {
  /** The lines, without their `\n` / `\r\n` terminators. */
  readonly lines: string[];
  /** 1-based line number of `lines[0]`. */
  readonly firstLineNo: number;
  /** Bytes of the file read so far (compressed bytes for `.gz`), for progress reporting. */
  readonly bytesRead: number;
}

/** Longest accepted line, in characters: a guard against a binary or newline-free file filling memory. */
export const MAX_LINE_CHARS = 64 * 1024 * 1024;

/** Size of a file in bytes; throws a `FILE_NOT_FOUND` error that names the path when it is missing. */
export async function fileSize(path: string): Promise<number> {
  let s;
  try {
    s = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NextclickError('FILE_NOT_FOUND', `input file not found: ${path}; check the path (relative paths resolve from ${process.cwd()})`, {
        cause: err,
        context: { file: path },
      });
    }
    throw err;
  }
  if (!s.isFile()) throw new NextclickError('INVALID_INPUT', `${path} is not a regular file; pass the path of a click log file`, { context: { file: path } });
  return s.size;
}

/**
 * Streams a text file (UTF-8, gzip when the name ends in `.gz`) as batches of lines. Holds one read chunk
 * plus one partial line in memory. A leading UTF-8 BOM is dropped; a final line without a terminator is still
 * returned. Batching (one await per chunk, not per line) keeps parsing fast.
 */
export async function* readLineBatches(path: string, chunkBytes = 1 << 20): AsyncGenerator<LineBatch> {
  await fileSize(path);
  const raw = createReadStream(path, { highWaterMark: chunkBytes });
  // pipeline forwards a read error of the file to the gunzip stream we iterate.
  const source: Readable = path.endsWith('.gz') ? pipeline(raw, createGunzip(), () => undefined) : raw;
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNo = 1;
  let first = true;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let text = carry + decoder.write(chunk);
      if (first && text.length > 0) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      if (carry.length > MAX_LINE_CHARS) {
        throw new ParseError(`${path}:${lineNo + lines.length}: line longer than ${MAX_LINE_CHARS} characters; is this a text click log?`, { context: { file: path, line: lineNo + lines.length } });
      }
      if (lines.length === 0) continue;
      stripCr(lines);
      yield { lines, firstLineNo: lineNo, bytesRead: raw.bytesRead };
      lineNo += lines.length;
    }
    const rest = carry + decoder.end();
    if (rest.length > 0) yield { lines: [rest.endsWith('\r') ? rest.slice(0, -1) : rest], firstLineNo: lineNo, bytesRead: raw.bytesRead };
  } catch (err) {
    if (err instanceof NextclickError) throw err;
    // zlib and fs errors: say which file, keep the cause.
    throw new ParseError(`${path}: cannot read after line ${lineNo - 1}: ${(err as Error).message}`, { cause: err, context: { file: path, line: lineNo } });
  } finally {
    source.destroy();
    raw.destroy();
  }
}

function stripCr(lines: string[]): void {
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
  }
}

/** Streams a text file line by line (1-based line numbers). Convenience over {@link readLineBatches}. */
export async function* readLines(path: string): AsyncGenerator<{ line: string; lineNo: number }> {
  for await (const batch of readLineBatches(path)) {
    for (let i = 0; i < batch.lines.length; i++) yield { line: batch.lines[i] as string, lineNo: batch.firstLineNo + i };
  }
}
