import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { NextclickError } from '../errors.js';
import type { ClickLogStats } from './click-log-options.js';
import { ClickLogReader } from './click-log.js';
import { EventTable } from './event-table.js';
import { resolvePrepareOptions, type PrepareOptions, type ResolvedPrepareOptions } from './prepare-options.js';
import { filterSessions, splitSessions, type FilterStats } from './session-split.js';

const DAY_MS = 86_400_000;

/** Counts of one side of the split. */
export interface SplitPartStats {
  events: number;
  sessions: number;
  items: number;
  /** First and last event time, ISO-8601 (null when empty). */
  from: string | null;
  to: string | null;
  /** Share of next items (every event after a session's first) already clicked earlier in the session. */
  repeatShare: number;
}

/** What {@link prepare} did; also written to `stats.json`. */
export interface PrepareStats {
  input: string;
  format: string;
  options: Record<string, unknown>;
  /** Reader counts; `sessions` and `items` are distinct ids after the `eventTypes` filter, before any splitting. */
  read: Pick<ClickLogStats, 'lines' | 'events' | 'badLines' | 'emptyLines'> & { droppedByEventType: number; sessions: number; items: number };
  sessionsAfterIdleSplit: number;
  repeatsRemoved: number;
  /**
   * Share of next items already clicked earlier in their session, over the sessions read (after the idle split
   * and `dedupeRepeats`, before the filters): how much a model gains from recommending the session's own items.
   */
  repeatShare: number;
  filters: FilterStats;
  afterFilters: { events: number; sessions: number; items: number };
  split: { by: 'last' | 'first'; testDays: number; lastEventTime: string | null; splitTime: string | null };
  train: SplitPartStats;
  test: SplitPartStats & { unknownItemEventsRemoved: number; shortSessionsRemoved: number };
  files: { train: string; test: string; stats: string };
}

/**
 * The standard session-rec/GRU4Rec preprocessing of a click log:
 * 1. read the log (any {@link ClickLogOptions} format), keeping only `eventTypes` if given;
 * 2. sort by (session, time; equal times keep file order) and start a new session after `idleMinutes` of
 *    inactivity (later parts get ids `id#2`, `id#3`, ...); optionally drop consecutive repeats of an item;
 * 3. drop sessions shorter than `minSessionLength`, then items with fewer than `minItemSupport` events, then short
 *    sessions again (repeated until stable with `filterUntilStable`);
 * 4. split by time: a session goes to test when its last event (`splitBy: 'first'`: its first) is at or after
 *    (last event of the log − `testDays`); train is not filtered again;
 * 5. in test, drop events whose item never occurs in train, then test sessions shorter than `minSessionLength`;
 * 6. write `train.tsv` and `test.tsv` (`SessionId<TAB>ItemId<TAB>Time`, Time in epoch seconds, sessions ordered
 *    by their first event, events by time) and `stats.json`.
 *
 * Memory: sorting needs every event in memory. Events are kept in typed arrays (Int32Array session and item,
 * Float64Array time, about 30–45 bytes per event with the sort and filter arrays, outside the JS heap) with session and
 * item ids interned once each, so a 33M-event log (full YooChoose) needs roughly 1 GB plus its distinct ids. Logs
 * beyond the machine's memory must be split by time first.
 */
export async function prepare(input: string, options: PrepareOptions): Promise<PrepareStats> {
  const o = resolvePrepareOptions(options);
  const log = o.logger;
  const { table, droppedByEventType, readStats } = await loadTable(input, o);
  log?.info({ input, events: table.size, sessions: table.sessionIds.length, items: table.itemIds.length }, 'prepare: log read');
  if (table.size === 0) throw new NextclickError('INVALID_INPUT', `${input} holds no events${readStats.badLines > 0 ? ` (${readStats.badLines} bad lines skipped)` : ''}; check --format and the file`, { context: { file: input } });

  const split = splitSessions(table, o.idleMinutes * 60_000, o.dedupeRepeats);
  const repeatShare = repeatShareOf(table, split.events, split.sessionOf, () => true);
  const { alive, stats: filterStats } = filterSessions(table, split, o.minItemSupport, o.minSessionLength, o.filterUntilStable);
  const afterFilters = countAlive(table, split.events, split.sessionOf, alive, split.count);
  if (afterFilters.events === 0) {
    throw new NextclickError('INVALID_INPUT', `no sessions are left after the filters (minItemSupport ${o.minItemSupport}, minSessionLength ${o.minSessionLength}) on ${table.size} events; lower them, or check idleMinutes (${o.idleMinutes})`, { context: { file: input } });
  }

  // Session spans over surviving events (events of a session are contiguous and time-ordered in split.events).
  const first = new Float64Array(split.count).fill(Number.NaN);
  const last = new Float64Array(split.count).fill(Number.NaN);
  let lastEvent = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < split.events.length; k++) {
    if (!alive[k]) continue;
    const s = split.sessionOf[k] as number;
    const t = table.time[split.events[k] as number] as number;
    if (Number.isNaN(first[s] as number)) first[s] = t;
    last[s] = t;
    if (t > lastEvent) lastEvent = t;
  }
  const splitTime = lastEvent - o.testDays * DAY_MS;
  const isTest = new Uint8Array(split.count);
  let trainSessions = 0;
  for (let s = 0; s < split.count; s++) {
    isTest[s] = ((o.splitBy === 'last' ? last[s] : first[s]) as number) >= splitTime ? 1 : 0;
    if (!isTest[s] && !Number.isNaN(first[s] as number)) trainSessions++;
  }
  if (trainSessions === 0) {
    throw new NextclickError('INVALID_INPUT', `every session falls in the last ${o.testDays} day(s) of the log (it ends ${iso(lastEvent)}), so train would be empty; lower testDays (--test-days)`, { context: { file: input } });
  }

  const trainItems = new Uint8Array(table.itemIds.length);
  const testLen = new Int32Array(split.count);
  for (let k = 0; k < split.events.length; k++) if (alive[k] && !isTest[split.sessionOf[k] as number]) trainItems[table.item[split.events[k] as number] as number] = 1;
  let unknownItemEventsRemoved = 0;
  for (let k = 0; k < split.events.length; k++) {
    const s = split.sessionOf[k] as number;
    if (!alive[k] || !isTest[s]) continue;
    if (!trainItems[table.item[split.events[k] as number] as number]) {
      alive[k] = 0;
      unknownItemEventsRemoved++;
    } else testLen[s] = (testLen[s] as number) + 1;
  }
  let shortSessionsRemoved = 0;
  for (let s = 0; s < split.count; s++) {
    if (isTest[s] && (testLen[s] as number) > 0 && (testLen[s] as number) < o.minSessionLength) shortSessionsRemoved++;
  }
  for (let k = 0; k < split.events.length; k++) {
    const s = split.sessionOf[k] as number;
    if (alive[k] && isTest[s] && (testLen[s] as number) < o.minSessionLength) alive[k] = 0;
  }

  await mkdir(o.outDir, { recursive: true });
  const files = { train: join(o.outDir, 'train.tsv'), test: join(o.outDir, 'test.tsv'), stats: join(o.outDir, 'stats.json') };
  const sessionOrder = sessionsByStart(split.count, first, split.ids);
  const writeSide = (test: 0 | 1, path: string): Promise<SplitPartStats> =>
    writeTsv(path, table, split.ids, split.events, split.sessionOf, sessionOrder, (k) => alive[k] === 1 && isTest[split.sessionOf[k] as number] === test);
  const train = await writeSide(0, files.train);
  const test = await writeSide(1, files.test);

  const stats: PrepareStats = {
    input,
    format: o.format,
    options: { idleMinutes: o.idleMinutes, dedupeRepeats: o.dedupeRepeats, minItemSupport: o.minItemSupport, minSessionLength: o.minSessionLength, filterUntilStable: o.filterUntilStable, testDays: o.testDays, splitBy: o.splitBy, eventTypes: o.eventTypes ?? null },
    read: { lines: readStats.lines, events: readStats.events, badLines: readStats.badLines, emptyLines: readStats.emptyLines, droppedByEventType, sessions: table.sessionIds.length, items: table.itemIds.length },
    sessionsAfterIdleSplit: split.count,
    repeatsRemoved: split.repeatsRemoved,
    repeatShare,
    filters: filterStats,
    afterFilters,
    split: { by: o.splitBy, testDays: o.testDays, lastEventTime: iso(lastEvent), splitTime: iso(splitTime) },
    train,
    test: { ...test, unknownItemEventsRemoved, shortSessionsRemoved },
    files,
  };
  await writeFile(files.stats, `${JSON.stringify(stats, null, 2)}\n`);
  log?.info({ train: train.events, test: test.events, outDir: o.outDir }, 'prepare: files written');
  return stats;
}

async function loadTable(input: string, o: ResolvedPrepareOptions): Promise<{ table: EventTable; droppedByEventType: number; readStats: ClickLogStats }> {
  const reader = new ClickLogReader(input, o);
  const table = new EventTable();
  const types = o.eventTypes ? new Set(o.eventTypes) : undefined;
  let droppedByEventType = 0;
  for await (const batch of reader.batches()) {
    for (const e of batch) {
      if (types && e.eventType !== undefined && !types.has(e.eventType)) {
        droppedByEventType++;
        continue;
      }
      table.push(e.sessionId, e.itemId, e.timestamp);
    }
  }
  return { table, droppedByEventType, readStats: reader.stats };
}

/**
 * Share of next items already in their session: over the kept entries of `events` (grouped by session, each
 * session's entries contiguous), the events after a session's first whose item occurred earlier in it.
 */
export function repeatShareOf(table: EventTable, events: Uint32Array, sessionOf: Int32Array, keep: (k: number) => boolean): number {
  const lastSessionOf = new Int32Array(table.itemIds.length).fill(-1);
  let transitions = 0;
  let repeats = 0;
  let current = -1;
  for (let k = 0; k < events.length; k++) {
    if (!keep(k)) continue;
    const s = sessionOf[k] as number;
    const item = table.item[events[k] as number] as number;
    if (s === current) {
      transitions++;
      if (lastSessionOf[item] === s) repeats++;
    }
    current = s;
    lastSessionOf[item] = s;
  }
  return transitions > 0 ? repeats / transitions : 0;
}

/** Surviving sessions (first time not NaN) ordered by first event time, then id (so input order does not matter). */
function sessionsByStart(count: number, first: Float64Array, ids: string[]): Int32Array {
  const order: number[] = [];
  for (let s = 0; s < count; s++) if (!Number.isNaN(first[s] as number)) order.push(s);
  order.sort((a, b) => (first[a] as number) - (first[b] as number) || compareIds(ids[a] as string, ids[b] as string));
  return Int32Array.from(order);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function countAlive(table: EventTable, events: Uint32Array, sessionOf: Int32Array, alive: Uint8Array, count: number): { events: number; sessions: number; items: number } {
  const sessions = new Uint8Array(count);
  const items = new Uint8Array(table.itemIds.length);
  let n = 0;
  for (let k = 0; k < events.length; k++) {
    if (!alive[k]) continue;
    n++;
    sessions[sessionOf[k] as number] = 1;
    items[table.item[events[k] as number] as number] = 1;
  }
  return { events: n, sessions: sessions.reduce((a, b) => a + b, 0), items: items.reduce((a, b) => a + b, 0) };
}

function iso(ms: number): string | null {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** Writes one side in the prepared TSV format; returns its counts. */
async function writeTsv(
  path: string,
  table: EventTable,
  ids: string[],
  events: Uint32Array,
  sessionOf: Int32Array,
  sessionOrder: Int32Array,
  keep: (k: number) => boolean,
): Promise<SplitPartStats> {
  // Index the first entry of each session in `events` so sessions can be written in start-time order.
  const start = new Int32Array(ids.length + 1).fill(-1);
  for (let k = events.length - 1; k >= 0; k--) start[sessionOf[k] as number] = k;
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  let buf = 'SessionId\tItemId\tTime\n';
  const items = new Set<number>();
  const itemText: (string | undefined)[] = new Array<string | undefined>(table.itemIds.length);
  let nEvents = 0;
  let nSessions = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const s of sessionOrder) {
    let k = start[s] as number;
    if (k < 0) continue;
    let wrote = false;
    const sid = safeField(ids[s] as string, 'session id');
    for (; k < events.length && sessionOf[k] === s; k++) {
      if (!keep(k)) continue;
      const e = events[k] as number;
      const item = table.item[e] as number;
      const t = table.time[e] as number;
      const text = (itemText[item] ??= safeField(String(table.itemIds[item]), 'item id'));
      buf += `${sid}\t${text}\t${t / 1000}\n`;
      items.add(item);
      nEvents++;
      wrote = true;
      if (t < from) from = t;
      if (t > to) to = t;
    }
    if (wrote) nSessions++;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await Promise.race([once(out, 'drain'), failed]);
      buf = '';
    }
  }
  out.end(buf);
  await Promise.race([once(out, 'finish'), failed]);
  return { events: nEvents, sessions: nSessions, items: items.size, from: iso(from), to: iso(to), repeatShare: repeatShareOf(table, events, sessionOf, keep) };
}

function safeField(v: string, what: string): string {
  if (/[\t\r\n]/.test(v)) throw new NextclickError('INVALID_INPUT', `${what} ${JSON.stringify(v)} contains a tab or newline and cannot be written to TSV; clean the input first`);
  return v;
}
