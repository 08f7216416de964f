import { basename } from 'node:path';
import { looksBinary, printableExcerpt } from './excerpt.js';
import { InvalidOptionError, ParseError } from '../errors.js';
import { validateClickEvent, type ClickEvent } from '../events/click-event.js';
import { ProgressBar } from '../instrumentation/progress.js';
import { defaultClickLogOptions, validateClickLogOptions, type BadLine, type ClickLogOptions, type ClickLogStats } from './click-log-options.js';
import { fileSize, readLineBatches } from './line-reader.js';
import { createParser, type LineParser, type RawEvent } from './parsers.js';
import { readMsgpackRecords } from './msgpack-log.js';

const MAX_SAMPLES = 10;

function emptyStats(): ClickLogStats {
  return { lines: 0, events: 0, badLines: 0, emptyLines: 0, bytesRead: 0, badLineSamples: [] };
}

/**
 * A click log file as a stream of validated events, in file order. Iterate it with `for await`; read
 * {@link stats} during or after. Each iteration re-reads the file and resets the stats.
 */
export class ClickLogReader implements AsyncIterable<ClickEvent> {
  private current: ClickLogStats = emptyStats();
  private readonly options: ClickLogOptions;

  constructor(
    readonly path: string,
    options: ClickLogOptions,
  ) {
    validateClickLogOptions(options);
    this.options = { ...defaultClickLogOptions, ...options };
  }

  /** Counters of the current (or last) iteration. */
  get stats(): Readonly<ClickLogStats> {
    return this.current;
  }

  /** Events in batches (one per read chunk, ~1 MiB of text): fewer awaits, for bulk loaders. */
  async *batches(): AsyncGenerator<ClickEvent[]> {
    const o = this.options;
    const stats = (this.current = emptyStats());
    const bar = o.progress
      ? new ProgressBar({ label: `reading ${basename(this.path)}`, total: await fileSize(this.path), unit: 'bytes', ...(o.progressStream ? { stream: o.progressStream } : {}) })
      : undefined;
    if (o.format === 'msgpack') {
      // Binary records, not lines: "line" numbers in stats and errors are record numbers.
      const onBad = (recordNo: number, err: unknown, value: unknown) => {
        stats.lines++;
        this.badLine(stats, JSON.stringify(value) ?? String(value), recordNo, err);
      };
      for await (const batch of readMsgpackRecords(this.path, o.validation, onBad, (b) => { stats.bytesRead = b; })) {
        stats.lines += batch.length;
        stats.events += batch.length;
        bar?.update(stats.bytesRead, `${stats.events} events`);
        yield batch;
      }
      bar?.finish(`${stats.events} events`);
      return;
    }
    let parse: LineParser | undefined;
    const raw: RawEvent[] = [];
    for await (const batch of readLineBatches(this.path)) {
      const out: ClickEvent[] = [];
      const { lines, firstLineNo } = batch;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        const lineNo = firstLineNo + i;
        stats.lines++;
        if (line.trim().length === 0) {
          stats.emptyLines++;
          continue;
        }
        if (parse === undefined) {
          // Option errors (a column missing from the header) are not bad lines: they propagate as they are.
          let setup;
          try {
            setup = createParser(o, line);
          } catch (err) {
            if (err instanceof InvalidOptionError) throw new InvalidOptionError(err.option, `${this.path}: ${err.message}`, { cause: err, context: { file: this.path } });
            throw err;
          }
          parse = setup.parse;
          if (setup.firstLineIsHeader) continue;
        }
        raw.length = 0;
        const mark = out.length;
        try {
          parse(line, lineNo, raw);
          for (const r of raw) out.push(validateClickEvent(r, o.validation));
        } catch (err) {
          // A line's events are all-or-nothing (an OTTO line holds a whole session).
          out.length = mark;
          this.badLine(stats, line, lineNo, err);
        }
      }
      stats.events += out.length;
      stats.bytesRead = batch.bytesRead;
      bar?.update(batch.bytesRead, `${stats.events} events`);
      if (out.length > 0) yield out;
    }
    bar?.finish(`${stats.events} events${stats.badLines > 0 ? `, ${stats.badLines} bad lines skipped` : ''}`);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ClickEvent> {
    for await (const batch of this.batches()) yield* batch;
  }

  private badLine(stats: ClickLogStats, line: string, lineNo: number, err: unknown): void {
    const reason = printableExcerpt((err as Error).message, 200);
    const bad: BadLine = { file: this.path, line: lineNo, reason, text: printableExcerpt(line, 200) };
    const policy = this.options.onBadLine ?? 'error';
    if (policy === 'error') {
      const hint = looksBinary(line) ? 'this line is not text: is the file compressed or binary? Otherwise pass' : 'pass';
      throw new ParseError(`${this.path}:${lineNo}: ${reason} (${hint} --skip-bad-lines, or onBadLine: 'skip' in code, to skip and count bad lines)`, {
        cause: err,
        context: { file: this.path, line: lineNo },
      });
    }
    stats.badLines++;
    if (stats.badLineSamples.length < MAX_SAMPLES) stats.badLineSamples.push(bad);
    if (typeof policy === 'function') policy(bad);
  }
}

/**
 * Streams a click log file line by line (never loading it whole) and yields validated {@link ClickEvent}s
 * (timestamps in ms) in file order. A bad line throws a {@link ParseError} naming `file:line`, or is skipped
 * and counted in `reader.stats` with `onBadLine: 'skip'`. A missing file fails with code `FILE_NOT_FOUND`.
 *
 * @example
 * const log = readClickLog('../shared/data/yoochoose-100k/train.tsv', { format: 'yoochoose' });
 * for await (const e of log) console.log(e.sessionId, e.itemId, e.timestamp);
 */
export function readClickLog(path: string, options: ClickLogOptions): ClickLogReader {
  return new ClickLogReader(path, options);
}
