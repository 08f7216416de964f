import { InvalidOptionError } from '../errors.js';
import type { EventValidationOptions } from '../events/click-event.js';

/** Log formats {@link readClickLog} understands. */
export const ClickLogFormats = ['tsv', 'csv', 'jsonl', 'yoochoose', 'diginetica', 'retailrocket', 'otto', 'srgnn', 'msgpack'] as const;
export type ClickLogFormat = (typeof ClickLogFormats)[number];

/** Unit of a timestamp column: epoch seconds (may be fractional), epoch milliseconds, or an ISO-8601 string. */
export type TimeUnit = 's' | 'ms' | 'iso';

/**
 * How item ids are typed: `auto` turns canonical integers (`42`, not `042`) into numbers and keeps everything
 * else a string, so ids written back out are unchanged.
 */
export type ItemIdType = 'auto' | 'string' | 'number';

/**
 * Which column holds each ClickEvent field, for the generic `tsv`/`csv`/`jsonl` formats: a header name
 * (or JSON key), or a 0-based column index for files without a header.
 */
export interface ColumnMapping {
  readonly sessionId: string | number;
  readonly itemId: string | number;
  readonly timestamp: string | number;
  readonly eventType?: string | number;
  readonly userId?: string | number;
  readonly eventId?: string | number;
}

/** One line that could not be parsed. */
export interface BadLine {
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  readonly reason: string;
  /** The line as a printable excerpt: non-printable characters escaped, cut to 200 characters. */
  readonly text: string;
}

/** Counters filled while a log is read (reset at the start of each iteration). */
export interface ClickLogStats {
  /** Lines seen, header and empty lines included. */
  lines: number;
  /** Events yielded. */
  events: number;
  /** Lines skipped because they could not be parsed (only with `onBadLine` other than `error`). */
  badLines: number;
  /** Empty or whitespace-only lines (always skipped). */
  emptyLines: number;
  /** Bytes of the file read so far. */
  bytesRead: number;
  /** The first 10 bad lines, for the report. */
  badLineSamples: BadLine[];
}

export interface ClickLogOptions {
  /** The file format. See the README of src/data (index.ts) for what each preset expects. */
  readonly format: ClickLogFormat;
  /**
   * Column mapping for `tsv`/`csv`/`jsonl`.
   * @defaultValue `{ sessionId: 'SessionId', itemId: 'ItemId', timestamp: 'Time' }` for tsv/csv (the prepared
   * format); `{ sessionId: 'sessionId', itemId: 'itemId', timestamp: 'timestamp', eventType: 'eventType', userId: 'userId', eventId: 'eventId' }` for jsonl
   */
  readonly columns?: ColumnMapping;
  /** Field separator for `tsv`/`csv`. @defaultValue `'\t'` for tsv, `','` for csv */
  readonly delimiter?: string;
  /** Whether the first line of a `tsv`/`csv` file names the columns. @defaultValue true */
  readonly hasHeader?: boolean;
  /**
   * Unit of the timestamp column for `tsv`/`csv`/`jsonl` (and `otto`, where it overrides auto-detection).
   * Seconds are rounded to whole milliseconds. ISO strings without an offset are read as UTC.
   * @defaultValue 's' for tsv/csv, 'ms' for jsonl
   */
  readonly timeUnit?: TimeUnit;
  /** How item ids are typed. @defaultValue 'auto' */
  readonly itemIdType?: ItemIdType;
  /**
   * What to do with a line that cannot be parsed: `error` throws a ParseError naming file and line; `skip`
   * counts it in `stats.badLines`; a function is called with the details and the line is skipped.
   * @defaultValue 'error'
   */
  readonly onBadLine?: 'error' | 'skip' | ((bad: BadLine) => void);
  /** Draw a progress bar (bytes read of the file size) on `progressStream`. @defaultValue false */
  readonly progress?: boolean;
  /** Where the progress bar goes. @defaultValue process.stderr */
  readonly progressStream?: NodeJS.WriteStream;
  /** Limits applied to every event (see validateClickEvent). @defaultValue validateClickEvent's defaults */
  readonly validation?: EventValidationOptions;
}

export const defaultClickLogOptions = {
  hasHeader: true,
  itemIdType: 'auto',
  onBadLine: 'error',
  progress: false,
} as const satisfies Partial<ClickLogOptions>;

/** Checks options up front so a bad option fails before any file is opened. */
export function validateClickLogOptions(o: ClickLogOptions): void {
  if (!(ClickLogFormats as readonly string[]).includes(o.format)) {
    throw new InvalidOptionError('format', `unknown format "${String(o.format)}"; expected one of ${ClickLogFormats.join(', ')}`);
  }
  if (o.delimiter !== undefined && (typeof o.delimiter !== 'string' || o.delimiter.length === 0 || /["\r\n]/.test(o.delimiter))) {
    throw new InvalidOptionError('delimiter', 'delimiter must be a non-empty string without quotes or newlines');
  }
  if (o.timeUnit !== undefined && !['s', 'ms', 'iso'].includes(o.timeUnit)) {
    throw new InvalidOptionError('timeUnit', `timeUnit must be 's', 'ms' or 'iso', got "${String(o.timeUnit)}"`);
  }
  if (o.itemIdType !== undefined && !['auto', 'string', 'number'].includes(o.itemIdType)) {
    throw new InvalidOptionError('itemIdType', `itemIdType must be 'auto', 'string' or 'number', got "${String(o.itemIdType)}"`);
  }
  const bad = o.onBadLine;
  if (bad !== undefined && bad !== 'error' && bad !== 'skip' && typeof bad !== 'function') {
    throw new InvalidOptionError('onBadLine', "onBadLine must be 'error', 'skip' or a function");
  }
  if (o.columns !== undefined) {
    for (const key of ['sessionId', 'itemId', 'timestamp'] as const) {
      const c = o.columns[key];
      if (c === undefined || c === '' || (typeof c === 'number' && (!Number.isInteger(c) || c < 0))) {
        throw new InvalidOptionError('columns', `columns.${key} must name a header column or be a 0-based column index`);
      }
    }
  }
  if (o.format !== 'tsv' && o.format !== 'csv' && o.format !== 'jsonl' && o.columns !== undefined) {
    throw new InvalidOptionError('columns', `columns apply to the generic tsv/csv/jsonl formats only; the "${o.format}" preset knows its columns`);
  }
}
