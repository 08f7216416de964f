import { InvalidOptionError } from '../errors.js';
import { looksBinary, printableExcerpt } from './excerpt.js';
import type { ItemId } from '../events/click-event.js';
import { splitDelimited } from './delimited.js';
import type { ClickLogOptions, ColumnMapping, ItemIdType, TimeUnit } from './click-log-options.js';

/** A click event before validation (validateClickEvent checks it). */
export interface RawEvent {
  sessionId: string;
  itemId: ItemId;
  timestamp: number;
  eventType?: string;
  userId?: string;
  eventId?: string;
}

/** Parses one non-empty line into zero or more events; throws a plain Error whose message is the reason. */
export type LineParser = (line: string, lineNo: number, out: RawEvent[]) => void;

/** Base time of synthesized SR-GNN timestamps: 2000-01-01T00:00:00Z. */
export const SRGNN_BASE_TIME_MS = Date.UTC(2000, 0, 1);
const HOUR_MS = 3_600_000;

const CANONICAL_INT = /^(0|-?[1-9]\d{0,15})$/;

export function parseItemId(raw: string, type: ItemIdType): ItemId {
  if (raw.length === 0) throw new Error('empty item id');
  if (type === 'string') return raw;
  if (CANONICAL_INT.test(raw)) {
    const n = Number(raw);
    if (Number.isSafeInteger(n)) return n;
  }
  if (type === 'number') throw new Error(`item id "${cut(raw)}" is not a safe integer`);
  return raw;
}

function itemFromJson(v: unknown, type: ItemIdType): ItemId {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`item id ${v} is not a safe integer`);
    return type === 'string' ? String(v) : v;
  }
  if (typeof v === 'string') return parseItemId(v, type);
  throw new Error(`item id must be a string or an integer, got ${v === null ? 'null' : typeof v}`);
}

function parseNumber(raw: string, what: string): number {
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${what} "${cut(raw)}" is not a number`);
  return n;
}

const HAS_TIME_NO_OFFSET = /T\d\d:\d\d(:\d\d(\.\d+)?)?$/;

/** Parses a timestamp in the given unit to epoch milliseconds (seconds are rounded to whole ms). */
export function parseTime(raw: string, unit: TimeUnit): number {
  if (unit === 'iso') {
    const s = raw.trim();
    // Date.parse reads a date-time without offset as local time; logs are UTC, and results must not depend on TZ.
    const ms = Date.parse(HAS_TIME_NO_OFFSET.test(s) ? `${s}Z` : s);
    if (!Number.isFinite(ms)) throw new Error(`timestamp "${cut(raw)}" is not an ISO-8601 date`);
    return ms;
  }
  const n = parseNumber(raw, 'timestamp');
  return unit === 's' ? Math.round(n * 1000) : n;
}

function cut(s: string): string {
  return printableExcerpt(s);
}

/** Result of looking at the first line: the parser and whether that line was a header. */
export interface ParserSetup {
  readonly parse: LineParser;
  readonly firstLineIsHeader: boolean;
}

/** Builds the parser for a format, using the file's first line to read its header or detect its variant. */
export function createParser(o: ClickLogOptions, firstLine: string): ParserSetup {
  const idType = o.itemIdType ?? 'auto';
  switch (o.format) {
    case 'tsv':
    case 'csv': {
      const delimiter = o.delimiter ?? (o.format === 'tsv' ? '\t' : ',');
      const columns = o.columns ?? { sessionId: 'SessionId', itemId: 'ItemId', timestamp: 'Time' };
      return delimitedParser(columns, delimiter, o.hasHeader ?? true, o.timeUnit ?? 's', idType, firstLine);
    }
    case 'jsonl':
      return { parse: jsonlParser(o.columns, o.timeUnit ?? 'ms', idType), firstLineIsHeader: false };
    case 'yoochoose':
      return yoochooseParser(idType, firstLine);
    case 'diginetica':
      return digineticaParser(idType, firstLine);
    case 'retailrocket': {
      const header = /^[A-Za-z_]/.test(firstLine);
      const cols = { timestamp: 'timestamp', sessionId: 'visitorid', userId: 'visitorid', eventType: 'event', itemId: 'itemid' };
      if (header) return delimitedParser(cols, ',', true, 'ms', idType, firstLine);
      return delimitedParser({ timestamp: 0, sessionId: 1, userId: 1, eventType: 2, itemId: 3 }, ',', false, 'ms', idType, firstLine);
    }
    case 'otto':
      return { parse: ottoParser(o.timeUnit, idType), firstLineIsHeader: false };
    case 'srgnn':
      return { parse: srgnnParser(idType), firstLineIsHeader: false };
    case 'msgpack':
      // Binary: ClickLogReader reads it record by record and never asks for a line parser.
      throw new InvalidOptionError('format', 'msgpack logs are binary and have no line parser');
  }
}

function delimitedParser(
  columns: ColumnMapping,
  delimiter: string,
  hasHeader: boolean,
  unit: TimeUnit,
  idType: ItemIdType,
  firstLine: string,
): ParserSetup {
  const header = hasHeader ? splitDelimited(firstLine, delimiter).map((h) => h.trim()) : [];
  const index = (key: keyof ColumnMapping, required: boolean): number => {
    const c = columns[key];
    if (c === undefined) {
      if (required) throw new InvalidOptionError('columns', `columns.${key} is required`);
      return -1;
    }
    if (typeof c === 'number') return c;
    if (!hasHeader) {
      if (/^\d+$/.test(c)) return Number(c);
      throw new InvalidOptionError('columns', `columns.${key} is "${c}" but the file has no header; use a 0-based column index`);
    }
    const ix = header.indexOf(c);
    if (ix < 0) {
      if (looksBinary(firstLine)) throw new InvalidOptionError('format', `the first line is not text ("${printableExcerpt(firstLine)}"); is this a compressed or binary file? Pass a text click log (.gz is read when the name ends in .gz)`);
      const shown = header.slice(0, 12).map((h) => printableExcerpt(h, 30)).join(', ');
      throw new InvalidOptionError('columns', `column "${c}" (for ${key}) is not in the header [${shown}${header.length > 12 ? `, … ${header.length - 12} more` : ''}]; set columns to match the file, or delimiter if the header was not split`);
    }
    return ix;
  };
  const sIx = index('sessionId', true);
  const iIx = index('itemId', true);
  const tIx = index('timestamp', true);
  const eIx = index('eventType', false);
  const uIx = index('userId', false);
  const idIx = index('eventId', false);
  const need = Math.max(sIx, iIx, tIx, eIx, uIx, idIx) + 1;
  const parse: LineParser = (line, _lineNo, out) => {
    const f = splitDelimited(line, delimiter);
    if (f.length < need) throw new Error(`expected at least ${need} fields separated by ${JSON.stringify(delimiter)}, got ${f.length}`);
    const ev: RawEvent = { sessionId: f[sIx] as string, itemId: parseItemId(f[iIx] as string, idType), timestamp: parseTime(f[tIx] as string, unit) };
    if (eIx >= 0 && f[eIx] !== '') ev.eventType = f[eIx] as string;
    if (uIx >= 0 && f[uIx] !== '') ev.userId = f[uIx] as string;
    if (idIx >= 0 && f[idIx] !== '') ev.eventId = f[idIx] as string;
    out.push(ev);
  };
  return { parse, firstLineIsHeader: hasHeader };
}

function jsonlParser(columns: ColumnMapping | undefined, unit: TimeUnit, idType: ItemIdType): LineParser {
  const c = columns ?? { sessionId: 'sessionId', itemId: 'itemId', timestamp: 'timestamp', eventType: 'eventType', userId: 'userId', eventId: 'eventId' };
  const key = (k: string | number | undefined): string | undefined => (k === undefined ? undefined : String(k));
  const [sK, iK, tK, eK, uK, idK] = [key(c.sessionId) as string, key(c.itemId) as string, key(c.timestamp) as string, key(c.eventType), key(c.userId), key(c.eventId)];
  const optional = (obj: Record<string, unknown>, k: string | undefined): string | undefined => {
    if (k === undefined) return undefined;
    const v = obj[k];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    throw new Error(`field "${k}" must be a string, got ${typeof v}`);
  };
  return (line, _lineNo, out) => {
    const obj = parseJsonObject(line);
    const s = obj[sK];
    if (typeof s !== 'string' && typeof s !== 'number') throw new Error(`field "${sK}" (session id) is missing or not a string/number`);
    const t = obj[tK];
    let timestamp: number;
    if (typeof t === 'number') timestamp = unit === 's' ? Math.round(t * 1000) : t;
    else if (typeof t === 'string') timestamp = parseTime(t, unit);
    else throw new Error(`field "${tK}" (timestamp) is missing or not a number/string`);
    const ev: RawEvent = { sessionId: String(s), itemId: itemFromJson(obj[iK], idType), timestamp };
    const e = optional(obj, eK);
    const u = optional(obj, uK);
    const id = optional(obj, idK);
    if (e !== undefined) ev.eventType = e;
    if (u !== undefined) ev.userId = u;
    if (id !== undefined) ev.eventId = id;
    out.push(ev);
  };
}

function parseJsonObject(line: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new Error(`invalid JSON: ${printableExcerpt((err as Error).message, 80)}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object per line');
  return v as Record<string, unknown>;
}

/** Prepared TSV (`SessionId ItemId Time`, seconds) or raw clicks (`session,ISO time,item,category`, no header). */
function yoochooseParser(idType: ItemIdType, firstLine: string): ParserSetup {
  const prepared = { sessionId: 'SessionId', itemId: 'ItemId', timestamp: 'Time' };
  if (firstLine.startsWith('SessionId')) return delimitedParser(prepared, '\t', true, 's', idType, firstLine);
  if (firstLine.includes('\t')) return delimitedParser({ sessionId: 0, itemId: 1, timestamp: 2 }, '\t', false, 's', idType, firstLine);
  return delimitedParser({ sessionId: 0, timestamp: 1, itemId: 2 }, ',', false, 'iso', idType, firstLine);
}

/** Raw `train-item-views.csv`: time = eventdate (UTC midnight) + timeframe (ms). */
function digineticaParser(idType: ItemIdType, firstLine: string): ParserSetup {
  const header = !/^\d/.test(firstLine);
  const dates = new Map<string, number>();
  const parse: LineParser = (line, _lineNo, out) => {
    const f = line.split(';');
    if (f.length < 5) throw new Error(`expected 5 fields separated by ";", got ${f.length}`);
    const [session, user, item, frame, date] = f as [string, string, string, string, string];
    let day = dates.get(date);
    if (day === undefined) {
      day = /^\d{4}-\d\d-\d\d$/.test(date) ? Date.parse(date) : Number.NaN;
      if (!Number.isFinite(day)) throw new Error(`eventdate "${cut(date)}" is not a YYYY-MM-DD date`);
      dates.set(date, day);
    }
    const ev: RawEvent = { sessionId: session, itemId: parseItemId(item, idType), timestamp: day + parseNumber(frame, 'timeframe') };
    if (user !== '' && user !== 'NA') ev.userId = user;
    out.push(ev);
  };
  return { parse, firstLineIsHeader: header };
}

/** OTTO: one session per line with its events; `ts` in ms unless it looks like seconds (< 1e11) or timeUnit says. */
function ottoParser(unit: TimeUnit | undefined, idType: ItemIdType): LineParser {
  return (line, _lineNo, out) => {
    const obj = parseJsonObject(line);
    const s = obj['session'];
    if (typeof s !== 'string' && typeof s !== 'number') throw new Error('field "session" is missing or not a number/string');
    const events = obj['events'];
    if (!Array.isArray(events)) throw new Error('field "events" is missing or not an array');
    const sessionId = String(s);
    const start = out.length;
    for (const e of events) {
      if (e === null || typeof e !== 'object') throw new Error('each entry of "events" must be an object');
      const { aid, ts, type } = e as Record<string, unknown>;
      if (typeof ts !== 'number' || !Number.isFinite(ts)) throw new Error('event "ts" is missing or not a number');
      const seconds = unit === 's' || (unit === undefined && ts < 1e11);
      const ev: RawEvent = { sessionId, itemId: itemFromJson(aid, idType), timestamp: seconds ? Math.round(ts * 1000) : ts };
      if (typeof type === 'string' && type !== '') ev.eventType = type;
      out.push(ev);
    }
    if (out.length === start) throw new Error('session has no events');
  };
}

/**
 * SR-GNN text: one session per line, item ids separated by whitespace, no times. Session id = the 1-based
 * line number; time = SRGNN_BASE_TIME_MS + line × 1 h + position × 1 s (deterministic, order-preserving).
 */
function srgnnParser(idType: ItemIdType): LineParser {
  return (line, lineNo, out) => {
    const items = line.trim().split(/\s+/);
    const sessionId = String(lineNo);
    const base = SRGNN_BASE_TIME_MS + lineNo * HOUR_MS;
    for (let i = 0; i < items.length; i++) out.push({ sessionId, itemId: parseItemId(items[i] as string, idType), timestamp: base + i * 1000 });
  };
}
