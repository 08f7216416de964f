import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { prepare } from '../../../src/data/index.js';
import { captureIo } from '../../helpers/capture-io.js';

const dir = mkdtempSync(join(tmpdir(), 'nextclick-repeat-share-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = 1_700_000_000;
const D = 86_400;
// Train day: A = 1 2 1 3 (next items 2, 1*, 3), B = 2 2 3 (2*, 3), C = 3 1 (1); test day: E = 1 2 1 1 (2, 1*, 1*).
// * = already in the session.
const rows: [string, number, number][] = [
  ['A', 1, T], ['A', 2, T + 10], ['A', 1, T + 20], ['A', 3, T + 30],
  ['B', 2, T + 100], ['B', 2, T + 110], ['B', 3, T + 120],
  ['C', 3, T + 200], ['C', 1, T + 210],
  ['E', 1, T + 3 * D], ['E', 2, T + 3 * D + 10], ['E', 1, T + 3 * D + 20], ['E', 1, T + 3 * D + 30],
];
const input = join(dir, 'log.tsv');
writeFileSync(input, `SessionId\tItemId\tTime\n${rows.map((r) => r.join('\t')).join('\n')}\n`);

describe('prepare reports the repeat share', () => {
  it('counts next items already clicked in the session, for the log read and for train and test', async () => {
    const stats = await prepare(input, { format: 'tsv', outDir: join(dir, 'p1'), minItemSupport: 1 });
    // Train: A 1 of 3, B 1 of 2, C 0 of 1 → 2/6; test: E 2 of 3; all: 4/9.
    expect(stats.train.repeatShare).toBeCloseTo(2 / 6, 12);
    expect(stats.test.repeatShare).toBeCloseTo(2 / 3, 12);
    expect(stats.repeatShare).toBeCloseTo(4 / 9, 12);
  });

  it('drops with --dedupe-repeats where the repeat was consecutive, and prints the share', async () => {
    const stats = await prepare(input, { format: 'tsv', outDir: join(dir, 'p2'), minItemSupport: 1, dedupeRepeats: true });
    // B = 2 3 (0 of 1) and E = 1 2 1 (1 of 2) after dropping consecutive repeats; A unchanged (1 of 3), C 0 of 1.
    expect(stats.repeatShare).toBeCloseTo(2 / 7, 12);
    const c = captureIo();
    expect(await main(['prepare', '--input', input, '--format', 'tsv', '--out', join(dir, 'p3'), '--min-item-support', '1'], c.io)).toBe(0);
    expect(c.text().stdout).toMatch(/repeat share \(next item already in the session\): 44\.4% of the log read, 33\.3% of train, 66\.7% of test/);
  });
});
