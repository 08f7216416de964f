import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepare, readClickLog, readPrefixTargets, readSessions, SRGNN_BASE_TIME_MS } from '../../../src/data/index.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

const DATA = '../shared/data';
const present = existsSync(DATA);
if (!present) console.warn(`[skip] ${DATA} is absent: the real-data format tests are skipped (see ../shared/data/README.md)`);

describe.skipIf(!present)('real logs in ../shared/data', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  it('yoochoose-100k prepared train.tsv: 70,278 events, 17,794 contiguous sessions', async () => {
    const log = readSessions(`${DATA}/yoochoose-100k/train.tsv`, { format: 'yoochoose' });
    let sessions = 0;
    let events = 0;
    let first: { sessionId: string; items: unknown[]; times: number[] } | undefined;
    for await (const s of log) {
      first ??= s;
      sessions++;
      events += s.items.length;
    }
    expect(events).toBe(70_278);
    expect(sessions).toBe(17_794);
    expect(log.stats.lines).toBe(70_279);
    expect(first?.sessionId).toBe('3');
    expect(first?.items.slice(0, 2)).toEqual([214716935, 214832672]);
    expect(first?.times.slice(0, 2)).toEqual([1396437466940, 1396438212318]);
  });

  it('the same file as generic tsv gives the same events', async () => {
    const a = readClickLog(`${DATA}/yoochoose-100k/test.tsv`, { format: 'yoochoose' });
    const b = readClickLog(`${DATA}/yoochoose-100k/test.tsv`, { format: 'tsv', columns: { sessionId: 'SessionId', itemId: 'ItemId', timestamp: 'Time' }, timeUnit: 's' });
    const ea = [];
    for await (const e of a) ea.push(e);
    const eb = [];
    for await (const e of b) eb.push(e);
    expect(ea.length).toBe(13_568);
    expect(eb).toEqual(ea);
  });

  it('diginetica raw sample: 12,391 events, 2,986 sessions, 7,139 items, times sorted within sessions', async () => {
    const log = readSessions(`${DATA}/diginetica-sample/sample_train-item-views.csv`, { format: 'diginetica' });
    let sessions = 0;
    let events = 0;
    const items = new Set<unknown>();
    let session1: { items: unknown[]; times: number[] } | undefined;
    for await (const s of log) {
      if (s.sessionId === '1') session1 = s;
      sessions++;
      events += s.items.length;
      for (const i of s.items) items.add(i);
      for (let k = 1; k < s.times.length; k++) expect(s.times[k]).toBeGreaterThanOrEqual(s.times[k - 1] as number);
    }
    expect([events, sessions, items.size]).toEqual([12_391, 2_986, 7_139]);
    // Session 1 sorted by timeframe (checked with `awk -F';' '$1==1' | sort -t';' -k4 -n`): 9654@75848, 33043@173912, ...
    const day = Date.UTC(2016, 4, 9);
    expect(session1?.items.slice(0, 4)).toEqual([9654, 33043, 32118, 12352]);
    expect(session1?.times.slice(0, 2)).toEqual([day + 75848, day + 173912]);
  });

  it('otto sample: 20 sessions, ms timestamps, event types', async () => {
    const log = readClickLog(`${DATA}/otto-sample/train.jsonl`, { format: 'otto' });
    const sessions = new Set<string>();
    const types = new Set<string>();
    let first;
    for await (const e of log) {
      first ??= e;
      sessions.add(e.sessionId);
      if (e.eventType) types.add(e.eventType);
    }
    expect(sessions.size).toBe(20);
    expect([...types].sort()).toEqual(['carts', 'clicks', 'orders']);
    expect(first).toEqual({ sessionId: '0', itemId: 1517085, timestamp: 1659304800025, eventType: 'clicks' });
    expect(log.stats.badLines).toBe(0);
  });

  it('diginetica SR-GNN train_sessions.txt: 186,670 sessions, 906,140 events, synthetic times', async () => {
    const log = readSessions(`${DATA}/diginetica/train_sessions.txt`, { format: 'srgnn', checkContiguous: false });
    let sessions = 0;
    let events = 0;
    const firsts: { sessionId: string; items: unknown[]; times: number[] }[] = [];
    for await (const s of log) {
      if (firsts.length < 2) firsts.push(s);
      sessions++;
      events += s.items.length;
    }
    expect([sessions, events]).toEqual([186_670, 906_140]);
    expect(firsts[0]).toEqual({ sessionId: '1', items: [1, 2], times: [SRGNN_BASE_TIME_MS + 3_600_000, SRGNN_BASE_TIME_MS + 3_601_000] });
    expect(firsts[1]?.items).toEqual([3, 4, 5]);
  });

  it('diginetica test_prefix_target.tsv: 60,858 cases, first is 5 items → 21566', async () => {
    let n = 0;
    let first;
    const items = new Set<unknown>();
    for await (const c of readPrefixTargets(`${DATA}/diginetica/test_prefix_target.tsv`)) {
      first ??= c;
      n++;
      items.add(c.target);
    }
    expect(n).toBe(60_858);
    expect(first).toEqual({ prefix: [21553, 20071, 8762, 21566, 6381], target: 21566, line: 1 });
  });

  it('prepare reproduces the published yoochoose-100k train/test split from their union', async () => {
    // The sample was item-filtered on the full log before sampling, so support is not re-applied here (minItemSupport 1);
    // sessions are YooChoose sessions already (no idle split). Everything else is the default pipeline.
    const dir = mkdtempSync(join(tmpdir(), 'nextclick-yc-'));
    try {
      const rows = (f: string): string[] => readFileSync(`${DATA}/yoochoose-100k/${f}`, 'utf8').trimEnd().split('\n').slice(1);
      const union = join(dir, 'all.tsv');
      writeFileSync(union, ['SessionId\tItemId\tTime', ...rows('train.tsv'), ...rows('test.tsv')].join('\n'));
      const stats = await prepare(union, { format: 'yoochoose', outDir: join(dir, 'out'), idleMinutes: Infinity, minItemSupport: 1 });
      expect([stats.train.events, stats.train.sessions, stats.test.events, stats.test.sessions]).toEqual([70_278, 17_794, 13_568, 3_416]);
      // Same rows (as a multiset; times compared as numbers since the source writes `…647.0`).
      const norm = (lines: string[]): string[] => lines.map((l) => l.split('\t')).map(([s, i, t]) => `${s}\t${i}\t${Number(t)}`).sort();
      const ours = (f: string): string[] => readFileSync(join(dir, 'out', f), 'utf8').trimEnd().split('\n').slice(1);
      expect(norm(ours('train.tsv'))).toEqual(norm(rows('train.tsv')));
      expect(norm(ours('test.tsv'))).toEqual(norm(rows('test.tsv')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
