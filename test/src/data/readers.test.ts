import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import type { ClickEvent } from '../../../src/events/click-event.js';
import { readClickLog, readPrefixTargets, readSessions, SRGNN_BASE_TIME_MS, type BadLine, type ClickLogOptions } from '../../../src/data/index.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

const dir = mkdtempSync(join(tmpdir(), 'nextclick-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string | Buffer, ext = 'txt'): string {
  const p = join(dir, `f${n++}.${ext}`);
  writeFileSync(p, text);
  return p;
}
async function all(path: string, options: ClickLogOptions): Promise<ClickEvent[]> {
  const out: ClickEvent[] = [];
  for await (const e of readClickLog(path, options)) out.push(e);
  return out;
}

describe('generic formats', () => {
  it('tsv defaults read the prepared format; CRLF, BOM, empty lines and a missing final newline are fine', async () => {
    const p = file('\uFEFFSessionId\tItemId\tTime\r\n1\t10\t1.5\r\n\r\n1\tabc\t2\r\n2\t007\t3');
    expect(await all(p, { format: 'tsv' })).toEqual([
      { sessionId: '1', itemId: 10, timestamp: 1500 },
      { sessionId: '1', itemId: 'abc', timestamp: 2000 },
      { sessionId: '2', itemId: '007', timestamp: 3000 },
    ]);
  });

  it('csv with mapped columns, quoted fields, optional fields and ms times', async () => {
    const p = file('ts,user,sess,item,kind,id\n1000,u1,"s,1","it ""x""",click,e1\n2000,,s2,5,,\n');
    const columns = { sessionId: 'sess', itemId: 'item', timestamp: 'ts', userId: 'user', eventType: 'kind', eventId: 'id' };
    expect(await all(p, { format: 'csv', columns, timeUnit: 'ms' })).toEqual([
      { sessionId: 's,1', itemId: 'it "x"', timestamp: 1000, userId: 'u1', eventType: 'click', eventId: 'e1' },
      { sessionId: 's2', itemId: 5, timestamp: 2000 },
    ]);
  });

  it('headerless csv by column index, ISO times read as UTC, itemIdType string', async () => {
    const p = file('a;2024-01-02T03:04:05.5;42\nb;2024-01-02T03:04:06Z;43\n');
    expect(await all(p, { format: 'csv', delimiter: ';', hasHeader: false, columns: { sessionId: 0, timestamp: 1, itemId: 2 }, timeUnit: 'iso', itemIdType: 'string' })).toEqual([
      { sessionId: 'a', itemId: '42', timestamp: Date.UTC(2024, 0, 2, 3, 4, 5, 500) },
      { sessionId: 'b', itemId: '43', timestamp: Date.UTC(2024, 0, 2, 3, 4, 6) },
    ]);
  });

  it('jsonl with default keys and with a column mapping', async () => {
    const p = file('{"sessionId":"s","itemId":7,"timestamp":5,"eventType":"view"}\n{"sessionId":3,"itemId":"x","timestamp":6}\n');
    expect(await all(p, { format: 'jsonl' })).toEqual([
      { sessionId: 's', itemId: 7, timestamp: 5, eventType: 'view' },
      { sessionId: '3', itemId: 'x', timestamp: 6 },
    ]);
    const q = file('{"sid":"s","aid":1,"t":1.25}\n');
    expect(await all(q, { format: 'jsonl', columns: { sessionId: 'sid', itemId: 'aid', timestamp: 't' }, timeUnit: 's' })).toEqual([{ sessionId: 's', itemId: 1, timestamp: 1250 }]);
  });

  it('a header that lacks a mapped column is an option error, not a bad line', async () => {
    const p = file('a\tb\tc\n1\t2\t3\n');
    await expect(all(p, { format: 'tsv', onBadLine: 'skip' })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('column "SessionId"') });
  });

  it('draws a progress bar by bytes on the given stream when asked', async () => {
    const p = file('SessionId\tItemId\tTime\n1\t2\t3\n1\t4\t5\n');
    let drawn = '';
    const progressStream = { isTTY: false, write: (s: string) => ((drawn += s), true) } as unknown as NodeJS.WriteStream;
    await all(p, { format: 'tsv', progress: true, progressStream });
    // Intermediate redraws depend on how long the read took (paced by the clock; see progress.test.ts for the
    // cadence under a fake clock): every line is a bar, and the last is the finished one.
    const lines = drawn.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toMatch(/^reading f\d+\.txt \[[#.]+\] \d+\.\d% /);
    expect(lines.at(-1)).toMatch(/^reading f\d+\.txt \[#+\] 100\.0% .* 2 events$/);
  });

  it('reads .gz files', async () => {
    const p = file(gzipSync('SessionId\tItemId\tTime\n1\t2\t3\n'), 'tsv.gz');
    expect(await all(p, { format: 'tsv' })).toEqual([{ sessionId: '1', itemId: 2, timestamp: 3000 }]);
    const broken = file(Buffer.from('not gzip at all'), 'tsv.gz');
    await expect(all(broken, { format: 'tsv' })).rejects.toMatchObject({ code: 'PARSE_FAILED', message: expect.stringContaining(broken) });
  });
});

describe('presets', () => {
  it('retailrocket events.csv: visitor as session, event type kept', async () => {
    const p = file('timestamp,visitorid,event,itemid,transactionid\n1433221332117,257597,view,355908,\n1433224214164,992329,transaction,248676,4000\n');
    expect(await all(p, { format: 'retailrocket' })).toEqual([
      { sessionId: '257597', itemId: 355908, timestamp: 1433221332117, eventType: 'view', userId: '257597' },
      { sessionId: '992329', itemId: 248676, timestamp: 1433224214164, eventType: 'transaction', userId: '992329' },
    ]);
  });

  it('yoochoose raw clicks (no header, ISO times) is told apart from the prepared TSV', async () => {
    const p = file('1,2014-04-07T10:51:09.277Z,214536502,0\n1,2014-04-07T10:54:09.868Z,214536500,S\n');
    expect(await all(p, { format: 'yoochoose' })).toEqual([
      { sessionId: '1', itemId: 214536502, timestamp: Date.parse('2014-04-07T10:51:09.277Z') },
      { sessionId: '1', itemId: 214536500, timestamp: Date.parse('2014-04-07T10:54:09.868Z') },
    ]);
  });

  it('otto: a line is a session; seconds are detected; a bad event rejects the whole line', async () => {
    const p = file('{"session":1,"events":[{"aid":5,"ts":1661724000,"type":"clicks"},{"aid":6,"ts":1661724001,"type":"carts"}]}\n{"session":2,"events":[{"aid":5,"ts":1},{"aid":null,"ts":2}]}\n');
    const r = readClickLog(p, { format: 'otto', onBadLine: 'skip' });
    const events = [];
    for await (const e of r) events.push(e);
    expect(events).toEqual([
      { sessionId: '1', itemId: 5, timestamp: 1661724000000, eventType: 'clicks' },
      { sessionId: '1', itemId: 6, timestamp: 1661724001000, eventType: 'carts' },
    ]);
    expect(r.stats.badLines).toBe(1);
    expect(r.stats.badLineSamples[0]?.line).toBe(2);
  });

  it('srgnn: line number is the session id; times are synthesized in order', async () => {
    const p = file('1 2 3\n\n4  5\n');
    const sessions = [];
    for await (const s of readSessions(p, { format: 'srgnn' })) sessions.push(s);
    expect(sessions).toEqual([
      { sessionId: '1', items: [1, 2, 3], times: [1, 2, 3].map((_, i) => SRGNN_BASE_TIME_MS + 3_600_000 + i * 1000) },
      { sessionId: '3', items: [4, 5], times: [0, 1].map((i) => SRGNN_BASE_TIME_MS + 3 * 3_600_000 + i * 1000) },
    ]);
  });

  it('diginetica: time = eventdate + timeframe, user NA dropped', async () => {
    const p = file('session_id;user_id;item_id;timeframe;eventdate\n1;NA;81766;526309;2016-05-09\n2;77;5;10;2016-05-10\n');
    expect(await all(p, { format: 'diginetica' })).toEqual([
      { sessionId: '1', itemId: 81766, timestamp: Date.UTC(2016, 4, 9) + 526309 },
      { sessionId: '2', itemId: 5, timestamp: Date.UTC(2016, 4, 10) + 10, userId: '77' },
    ]);
  });
});

describe('bad lines', () => {
  const text = 'SessionId\tItemId\tTime\n1\t2\t3\n1\t\t4\n1\t5\tx\n1\t6\n1\t7\t-5\n1\t8\t9\n';
  it('throw a ParseError naming file and line by default', async () => {
    const p = file(text);
    const err = await all(p, { format: 'tsv' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).message).toContain(`${p}:3: empty item id`);
    expect((err as ParseError).context).toMatchObject({ file: p, line: 3 });
  });

  it('are skipped and counted with onBadLine skip, or passed to a callback', async () => {
    const p = file(text);
    const r = readClickLog(p, { format: 'tsv', onBadLine: 'skip' });
    const items = [];
    for await (const e of r) items.push(e.itemId);
    expect(items).toEqual([2, 8]);
    expect(r.stats).toMatchObject({ lines: 7, events: 2, badLines: 4 });
    expect(r.stats.badLineSamples.map((b) => b.line)).toEqual([3, 4, 5, 6]);
    expect(r.stats.badLineSamples[3]?.reason).toContain('timestamp');
    const seen: BadLine[] = [];
    await all(p, { format: 'tsv', onBadLine: (b) => seen.push(b) });
    expect(seen.map((b) => b.line)).toEqual([3, 4, 5, 6]);
  });

  it('a missing file fails with FILE_NOT_FOUND; bad options fail before reading', async () => {
    await expect(all(join(dir, 'nope'), { format: 'tsv' })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(() => readClickLog('x', { format: 'parquet' as 'tsv' })).toThrow(/unknown format/);
    expect(() => readClickLog('x', { format: 'otto', columns: { sessionId: 'a', itemId: 'b', timestamp: 'c' } })).toThrow(/generic/);
  });

  it('a prefix/target file with a bad line names the line', async () => {
    const p = file('1 2\t3\n4 5 6\n');
    const got: unknown[] = [];
    const err = await (async () => {
      for await (const c of readPrefixTargets(p)) got.push(c);
    })().catch((e: unknown) => e);
    expect(got).toEqual([{ prefix: [1, 2], target: 3, line: 1 }]);
    expect((err as ParseError).message).toContain(`${p}:2`);
  });
});

describe('readSessions', () => {
  it('groups contiguous events, sorts each session by time, and refuses interleaved logs', async () => {
    const p = file('SessionId\tItemId\tTime\na\t1\t2\na\t2\t1\nb\t3\t1\n');
    const sessions = [];
    for await (const s of readSessions(p, { format: 'tsv' })) sessions.push(s);
    expect(sessions).toEqual([
      { sessionId: 'a', items: [2, 1], times: [1000, 2000] },
      { sessionId: 'b', items: [3], times: [1000] },
    ]);
    const q = file('SessionId\tItemId\tTime\na\t1\t1\nb\t2\t1\na\t3\t2\n');
    const run = async (): Promise<void> => {
      for await (const s of readSessions(q, { format: 'tsv' })) void s;
    };
    await expect(run()).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('nextclick prepare') });
  });

  it('a file larger than one read chunk keeps line numbers and events exact', async () => {
    const lines = ['SessionId\tItemId\tTime'];
    for (let i = 0; i < 120_000; i++) lines.push(`s${Math.floor(i / 4)}\t${i % 97}\t${1_600_000_000 + i}.25`);
    lines.push('bad');
    const p = file(lines.join('\n'));
    const err = await all(p, { format: 'tsv' }).catch((e: unknown) => e);
    expect((err as ParseError).context).toMatchObject({ line: 120_002 });
    const r = readSessions(p, { format: 'tsv', onBadLine: 'skip' });
    let count = 0;
    let events = 0;
    for await (const s of r) {
      count++;
      events += s.items.length;
    }
    expect([count, events, r.stats.badLines]).toEqual([30_000, 120_000, 1]);
  }, HEAVY_TEST_TIMEOUT_MS); // 120,000 lines: ~3 s idle, ~50 s on a saturated 2-core box
});
