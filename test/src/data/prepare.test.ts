import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepare, readSessions } from '../../../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nextclick-prepare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = 1_700_000_000; // seconds
const D = 86_400;
// Hand-made log, deliberately out of order. Sessions (item@offset s):
//   A: 1@0.5 2@60 3@120          B: 1@1000 2@1100, then 3@4700 (1 h later → split off as B#2, length 1)
//   C: 2@2000 9@2100 (9 has support 1)   D: 1@3000 3@3060
//   E: 1@3D 2@3D+60 3@3D+120     F: 3@3D+500 4@3D+560 4@3D+600 (4 only in test)   G: 2@3D+1000 1@3D+1060
const rows: [string, number, number][] = [
  ['A', 3, T + 120], ['A', 2, T + 60], ['A', 1, T + 0.5],
  ['B', 1, T + 1000], ['D', 1, T + 3000], ['B', 2, T + 1100], ['B', 3, T + 4700],
  ['C', 2, T + 2000], ['C', 9, T + 2100], ['D', 3, T + 3060],
  ['E', 1, T + 3 * D], ['E', 2, T + 3 * D + 60], ['E', 3, T + 3 * D + 120],
  ['F', 3, T + 3 * D + 500], ['F', 4, T + 3 * D + 560], ['F', 4, T + 3 * D + 600],
  ['G', 2, T + 3 * D + 1000], ['G', 1, T + 3 * D + 1060],
];
const input = join(dir, 'log.tsv');
writeFileSync(input, `SessionId\tItemId\tTime\n${rows.map((r) => r.join('\t')).join('\n')}\n`);

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}

describe('prepare', () => {
  it('splits idle sessions, filters, splits by time and removes unknown test items (hand-checked)', async () => {
    const out = join(dir, 'p1');
    const stats = await prepare(input, { format: 'tsv', outDir: out, minItemSupport: 2 });
    // Filters: B#2 (length 1) goes, item 9 (support 1) goes, then C (now length 1) goes.
    // Split: last event G@3D+1060; sessions ending on or after 2D+1060 are test: E, F, G.
    // Test: item 4 is not in train → F loses both 4s → F = [3], too short → dropped.
    expect(lines(join(out, 'train.tsv'))).toEqual([
      'SessionId\tItemId\tTime',
      `A\t1\t${T}.5`, `A\t2\t${T + 60}`, `A\t3\t${T + 120}`,
      `B\t1\t${T + 1000}`, `B\t2\t${T + 1100}`,
      `D\t1\t${T + 3000}`, `D\t3\t${T + 3060}`,
    ]);
    expect(lines(join(out, 'test.tsv'))).toEqual([
      'SessionId\tItemId\tTime',
      `E\t1\t${T + 3 * D}`, `E\t2\t${T + 3 * D + 60}`, `E\t3\t${T + 3 * D + 120}`,
      `G\t2\t${T + 3 * D + 1000}`, `G\t1\t${T + 3 * D + 1060}`,
    ]);
    expect(stats.read).toMatchObject({ events: 18, sessions: 7, items: 5, badLines: 0 });
    expect(stats.sessionsAfterIdleSplit).toBe(8);
    expect(stats.filters).toEqual({ rounds: 1, eventsRemovedByItemSupport: 1, eventsRemovedBySessionLength: 2 });
    expect(stats.afterFilters).toEqual({ events: 15, sessions: 6, items: 4 });
    expect(stats.train).toMatchObject({ events: 7, sessions: 3, items: 3 });
    expect(stats.test).toMatchObject({ events: 5, sessions: 2, items: 3, unknownItemEventsRemoved: 2, shortSessionsRemoved: 1 });
    expect(stats.split.splitTime).toBe(new Date((T + 2 * D + 1060) * 1000).toISOString());
    expect(JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8'))).toEqual(stats);
  });

  it('keeps the later part of a split session as id#2 when filters allow, and the output reads back with readSessions', async () => {
    const out = join(dir, 'p2');
    await prepare(input, { format: 'tsv', outDir: out, minItemSupport: 1, minSessionLength: 1 });
    const sessions = [];
    for await (const s of readSessions(join(out, 'train.tsv'), { format: 'yoochoose' })) sessions.push([s.sessionId, s.items]);
    expect(sessions).toEqual([['A', [1, 2, 3]], ['B', [1, 2]], ['C', [2, 9]], ['D', [1, 3]], ['B#2', [3]]]);
    const test = lines(join(out, 'test.tsv'));
    expect(test).toContain(`F\t3\t${T + 3 * D + 500}`);
    expect(test.some((l) => l.startsWith('F\t4'))).toBe(false);
  });

  it('dedupeRepeats drops consecutive repeats before the support filter', async () => {
    const out = join(dir, 'p3');
    const stats = await prepare(input, { format: 'tsv', outDir: out, minItemSupport: 2, dedupeRepeats: true });
    expect(stats.repeatsRemoved).toBe(1);
    // F = [3, 4]: item 4 now has support 1 and goes in the filters, not as an unknown test item.
    expect(stats.test.unknownItemEventsRemoved).toBe(0);
    expect(stats.test.sessions).toBe(2);
  });

  it('one filter pass can leave items under the support; filterUntilStable iterates', async () => {
    const once = await prepare(input, { format: 'tsv', outDir: join(dir, 'p4'), minItemSupport: 5 });
    // Pass 1 drops items 3, 4, 9; sessions C, D, F then fall below length 2, leaving items 1 and 2 with support 4.
    expect(once.afterFilters).toEqual({ events: 8, sessions: 4, items: 2 });
    await expect(prepare(input, { format: 'tsv', outDir: join(dir, 'p5'), minItemSupport: 5, filterUntilStable: true })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('splitBy decides which session time is compared with the split time', async () => {
    // testDays = 960 s → split time 3D+100, between E's first (3D) and last (3D+120) event.
    const common = { format: 'tsv', minItemSupport: 2, testDays: 960 / D } as const;
    const byLast = await prepare(input, { ...common, outDir: join(dir, 'p6') });
    expect([byLast.train.sessions, byLast.test.sessions]).toEqual([3, 2]); // test: E, G (F dropped)
    const byFirst = await prepare(input, { ...common, outDir: join(dir, 'p7'), splitBy: 'first' });
    expect([byFirst.train.sessions, byFirst.test.sessions]).toEqual([4, 1]); // E moves to train
  });

  it('rejects bad options and missing files with typed errors', async () => {
    await expect(prepare(input, { format: 'tsv', outDir: join(dir, 'x'), testDays: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'testDays' });
    await expect(prepare(input, { format: 'tsv', outDir: join(dir, 'x'), minItemSupport: 1.5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(prepare(input, { format: 'tsv', outDir: join(dir, 'x'), testDays: 4 })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('train would be empty') });
    await expect(prepare(join(dir, 'nope.tsv'), { format: 'tsv', outDir: join(dir, 'x') })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});
