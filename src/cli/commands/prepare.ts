import { ClickLogFormats, type ClickLogFormat, type ColumnMapping, type TimeUnit } from '../../data/click-log-options.js';
import { prepare, type PrepareStats } from '../../data/prepare.js';
import { readdir, stat } from 'node:fs/promises';
import { fileSize } from '../../data/line-reader.js';
import { InvalidOptionError } from '../../errors.js';
import { CliUsageError, numberOption, requiredString, stringOption, type CliCommand } from '../command.js';

const usage = `
Usage: nextclick prepare --input FILE --format FORMAT --out DIR [options]

Turns a raw click log into train.tsv / test.tsv (SessionId<TAB>ItemId<TAB>Time, seconds) and stats.json:
sort by time, split sessions after an idle gap, optional repeat removal, item-support and session-length
filters, time split (sessions whose last event is in the last N days go to test), unknown items removed from test.

  --input FILE              click log (.gz accepted)
  --format FORMAT           ${ClickLogFormats.join(' | ')}
  --out DIR                 output folder (created); one that already holds prepared files is refused
  --force                   overwrite the train.tsv, test.tsv and stats.json of an earlier run in --out
  --test-days N             days at the end of the log that form the test set (default 1)
  --split-by last|first     session time compared with the split time (default last, as GRU4Rec)
  --min-item-support N      drop items with fewer events (default 5)
  --min-session-length N    drop sessions with fewer events (default 2)
  --idle-minutes N          gap that starts a new session (default 30; Infinity to keep sessions whole)
  --dedupe-repeats          drop consecutive repeats of the same item
  --until-stable            repeat the item/session filters until nothing changes
  --event-types A,B         keep only these event types (e.g. clicks for otto, view for retailrocket)
  --columns MAP             generic formats: sessionId=COL,itemId=COL,timestamp=COL[,eventType=COL,...]
  --delimiter D             generic formats: field separator (\\t or tab for a tab)
  --no-header               generic formats: the file has no header line (columns are 0-based indices)
  --time-unit s|ms|iso      generic formats: unit of the timestamp column
  --skip-bad-lines          skip and count unparsable lines instead of stopping at the first
  --progress                show a progress bar on stderr
  --json                    print the stats as JSON

Example: nextclick prepare --input train-item-views.csv --format diginetica --out data/diginetica --test-days 7
`;

const columnKeys = ['sessionId', 'itemId', 'timestamp', 'eventType', 'userId', 'eventId'] as const;

function parseColumns(raw: string): ColumnMapping {
  const map: Record<string, string | number> = {};
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq < 0 || !(columnKeys as readonly string[]).includes(key) || value === '') {
      throw new CliUsageError(`--columns expects field=column pairs with fields ${columnKeys.join(', ')}; got "${part}"`);
    }
    map[key] = /^\d+$/.test(value) ? Number(value) : value;
  }
  for (const k of ['sessionId', 'itemId', 'timestamp']) if (map[k] === undefined) throw new CliUsageError(`--columns must name ${k}`);
  return map as unknown as ColumnMapping;
}

export const command: CliCommand = {
  name: 'prepare',
  summary: 'turn a raw click log into train/test files (sessions, filters, time split)',
  usage,
  options: {
    input: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
    'test-days': { type: 'string' },
    'split-by': { type: 'string' },
    'min-item-support': { type: 'string' },
    'min-session-length': { type: 'string' },
    'idle-minutes': { type: 'string' },
    'dedupe-repeats': { type: 'boolean' },
    'until-stable': { type: 'boolean' },
    'event-types': { type: 'string' },
    columns: { type: 'string' },
    delimiter: { type: 'string' },
    'no-header': { type: 'boolean' },
    'time-unit': { type: 'string' },
    'skip-bad-lines': { type: 'boolean' },
    progress: { type: 'boolean' },
  },
  async run(values, io) {
    const input = requiredString(values, 'input');
    const format = requiredString(values, 'format');
    const outDir = requiredString(values, 'out');
    if (!(ClickLogFormats as readonly string[]).includes(format)) throw new CliUsageError(`--format must be one of ${ClickLogFormats.join(', ')}; got "${format}"`);
    const splitBy = stringOption(values, 'split-by') ?? 'last';
    if (splitBy !== 'last' && splitBy !== 'first') throw new CliUsageError(`--split-by must be last or first; got "${splitBy}"`);
    const timeUnit = stringOption(values, 'time-unit');
    if (timeUnit !== undefined && !['s', 'ms', 'iso'].includes(timeUnit)) throw new CliUsageError(`--time-unit must be s, ms or iso; got "${timeUnit}"`);
    const columns = stringOption(values, 'columns');
    const delimiter = stringOption(values, 'delimiter');
    const eventTypes = stringOption(values, 'event-types');
    const positiveInt = (n: number): boolean => Number.isInteger(n) && n >= 1;
    // Fail on a missing file before any other work, with the FILE_NOT_FOUND code.
    await fileSize(input);
    await checkPrepareOut(outDir, values['force'] === true);
    const stats = await prepare(input, {
      format: format as ClickLogFormat,
      outDir,
      testDays: numberOption(values, 'test-days', 1, (n) => Number.isFinite(n) && n > 0),
      splitBy,
      minItemSupport: numberOption(values, 'min-item-support', 5, positiveInt),
      minSessionLength: numberOption(values, 'min-session-length', 2, positiveInt),
      idleMinutes: numberOption(values, 'idle-minutes', 30, (n) => n > 0),
      dedupeRepeats: values['dedupe-repeats'] === true,
      filterUntilStable: values['until-stable'] === true,
      ...(eventTypes !== undefined ? { eventTypes: eventTypes.split(',').map((t) => t.trim()).filter((t) => t !== '') } : {}),
      ...(columns !== undefined ? { columns: parseColumns(columns) } : {}),
      ...(delimiter !== undefined ? { delimiter: delimiter === '\\t' || delimiter === 'tab' ? '\t' : delimiter } : {}),
      ...(values['no-header'] === true ? { hasHeader: false } : {}),
      ...(timeUnit !== undefined ? { timeUnit: timeUnit as TimeUnit } : {}),
      onBadLine: values['skip-bad-lines'] === true ? 'skip' : 'error',
      progress: values['progress'] === true,
      progressStream: io.stderr,
    });
    if (values['json'] === true) io.stdout.write(`${JSON.stringify({ ok: true, stats })}\n`);
    else io.stdout.write(summary(stats));
    return 0;
  },
};

const PREPARED_FILES = ['train.tsv', 'test.tsv', 'stats.json'];

/** `--out` must be a folder (or not exist); an earlier run's files are overwritten only with `--force`. */
async function checkPrepareOut(outDir: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    if (!(await stat(outDir)).isDirectory()) throw new InvalidOptionError('out', `--out ${outDir} is a file; prepare writes a folder (${PREPARED_FILES.join(', ')}): choose another path`);
    entries = await readdir(outDir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return;
    throw err;
  }
  const existing = PREPARED_FILES.filter((f) => entries.includes(f));
  if (existing.length > 0 && !force) throw new InvalidOptionError('out', `--out ${outDir} already holds ${existing.join(', ')}; pass --force to overwrite them, or choose another folder`);
}

function summary(s: PrepareStats): string {
  const row = (label: string, e: number | string, ss: number | string, i: number | string): string =>
    `  ${label.padEnd(15)}${String(e).padStart(12)}${String(ss).padStart(12)}${String(i).padStart(10)}\n`;
  let out = `nextclick prepare: ${s.input} (${s.format})\n\n`;
  out += row('', 'events', 'sessions', 'items');
  out += row('read', s.read.events - s.read.droppedByEventType, s.read.sessions, s.read.items);
  out += row('idle split', '', s.sessionsAfterIdleSplit, '');
  out += row('after filters', s.afterFilters.events, s.afterFilters.sessions, s.afterFilters.items);
  out += row('train', s.train.events, s.train.sessions, s.train.items);
  out += row('test', s.test.events, s.test.sessions, s.test.items);
  out += `\n  split: sessions whose ${s.split.by} event is at/after ${s.split.splitTime} (last event ${s.split.lastEventTime} − ${s.split.testDays} d) are test\n`;
  const removed = [
    s.read.badLines > 0 ? `${s.read.badLines} bad lines skipped` : '',
    s.read.droppedByEventType > 0 ? `${s.read.droppedByEventType} events of other types` : '',
    s.repeatsRemoved > 0 ? `${s.repeatsRemoved} repeats` : '',
    `${s.filters.eventsRemovedByItemSupport} events of rare items`,
    `${s.filters.eventsRemovedBySessionLength} events of short sessions`,
    `${s.test.unknownItemEventsRemoved} test events with items not in train`,
    `${s.test.shortSessionsRemoved} test sessions left too short`,
  ].filter((x) => x !== '');
  out += `  removed: ${removed.join(', ')}\n`;
  const share = (x: number) => `${(100 * x).toFixed(1)}%`;
  out += `  repeat share (next item already in the session): ${share(s.repeatShare)} of the log read, ${share(s.train.repeatShare)} of train, ${share(s.test.repeatShare)} of test\n`;
  out += `  wrote: ${s.files.train}, ${s.files.test}, ${s.files.stats}\n`;
  return out;
}
