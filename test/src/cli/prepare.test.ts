import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import type { CliIo } from '../../../src/cli/command.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

const dir = mkdtempSync(join(tmpdir(), 'nextclick-cli-prepare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { io: CliIo; out: () => string; err: () => string } {
  const chunks = { out: '', err: '' };
  const sink = (key: 'out' | 'err'): Writable =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        chunks[key] += chunk.toString();
        cb();
      },
    });
  return { io: { stdout: sink('out'), stderr: sink('err') as unknown as NodeJS.WriteStream }, out: () => chunks.out, err: () => chunks.err };
}

// Four sessions of items a,b,c, three on day 1 and one on day 3 (ms timestamps), in csv with custom columns.
const day = Date.UTC(2024, 0, 1);
const csv = ['visitor,product,when', ...[1, 2, 3].flatMap((s) => ['a', 'b', 'c'].map((item, i) => `s${s},${item},${day + s * 3_600_000 + i * 1000}`)), ...['a', 'b', 'c'].map((item, i) => `s4,${item},${day + 2 * 86_400_000 + i * 1000}`)].join('\n');
const input = join(dir, 'log.csv');
writeFileSync(input, `${csv}\n`);

describe('nextclick prepare', () => {
  it('prepares a generic csv and prints a summary table', async () => {
    const c = capture();
    const out = join(dir, 'out');
    const code = await main(['prepare', '--input', input, '--format', 'csv', '--columns', 'sessionId=visitor,itemId=product,timestamp=when', '--time-unit', 'ms', '--min-item-support', '2', '--out', out], c.io);
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    expect(c.out()).toMatch(/train\s+9\s+3\s+3/);
    expect(c.out()).toMatch(/test\s+3\s+1\s+3/);
    expect(readFileSync(join(out, 'test.tsv'), 'utf8')).toBe(`SessionId\tItemId\tTime\ns4\ta\t${(day + 2 * 86_400_000) / 1000}\ns4\tb\t${(day + 2 * 86_400_000 + 1000) / 1000}\ns4\tc\t${(day + 2 * 86_400_000 + 2000) / 1000}\n`);
  });

  it('--json prints the stats object', async () => {
    const c = capture();
    const code = await main(['prepare', '--input', input, '--format', 'csv', '--columns', 'sessionId=visitor,itemId=product,timestamp=when', '--time-unit', 'ms', '--min-item-support', '2', '--out', join(dir, 'out2'), '--json'], c.io);
    expect(code).toBe(0);
    const body = JSON.parse(c.out());
    expect(body.ok).toBe(true);
    expect(body.stats.train).toMatchObject({ events: 9, sessions: 3, items: 3 });
  });

  it('exits 2 with FILE_NOT_FOUND for a missing input', async () => {
    const c = capture();
    const code = await main(['prepare', '--input', join(dir, 'missing.csv'), '--format', 'csv', '--out', join(dir, 'o')], c.io);
    expect(code).toBe(2);
    expect(c.err()).toMatch(/input file not found: .*missing\.csv.*\[FILE_NOT_FOUND\]/);
  });

  it('exits 2 naming file:line on a bad line, and --skip-bad-lines counts it', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, `${csv}\ns9,x,not-a-time\n`);
    const args = ['prepare', '--input', bad, '--format', 'csv', '--columns', 'sessionId=visitor,itemId=product,timestamp=when', '--time-unit', 'ms', '--min-item-support', '2', '--out', join(dir, 'o3')];
    const c = capture();
    expect(await main(args, c.io)).toBe(2);
    expect(c.err()).toContain(`${bad}:14: timestamp "not-a-time" is not a number`);
    const d = capture();
    expect(await main([...args, '--skip-bad-lines', '--json'], d.io)).toBe(0);
    expect(JSON.parse(d.out()).stats.read.badLines).toBe(1);
  });

  it('--help prints the usage', async () => {
    const c = capture();
    expect(await main(['prepare', '--help'], c.io)).toBe(0);
    expect(c.out()).toContain('--min-item-support');
  });

  it('exits 2 on a bad format or option value', async () => {
    const c = capture();
    expect(await main(['prepare', '--input', input, '--format', 'parquet', '--out', dir], c.io)).toBe(2);
    expect(c.err()).toContain('--format must be one of');
    const d = capture();
    expect(await main(['prepare', '--input', input, '--format', 'csv', '--out', dir, '--test-days', '-1'], d.io)).toBe(2);
    expect(d.err()).toContain('--test-days');
  });

  it.skipIf(!existsSync('../shared/data/diginetica-sample'))('prepares the raw Diginetica sample (needs ../shared/data)', { timeout: HEAVY_TEST_TIMEOUT_MS }, async () => {
    const c = capture();
    const out = join(dir, 'dg');
    const code = await main(['prepare', '--input', '../shared/data/diginetica-sample/sample_train-item-views.csv', '--format', 'diginetica', '--out', out, '--test-days', '7', '--json'], c.io);
    expect(code).toBe(0);
    const { stats } = JSON.parse(c.out());
    expect(stats.read).toMatchObject({ events: 12_391, sessions: 2_986, items: 7_139 });
    expect(stats.train.events).toBeGreaterThan(0);
    expect(stats.test.events).toBeGreaterThan(0);
  });
});
