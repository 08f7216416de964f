import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { captureIo } from '../../helpers/capture-io.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

const capture = captureIo;

const data = '../shared/data/yoochoose-100k';
const have = existsSync(join(data, 'train.tsv')) && existsSync(join(data, 'test.tsv'));
if (!have) console.warn(`skipping yoochoose-100k CLI evaluation tests: ${data} is absent`);

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

interface Json { ok: boolean; predictions: number; events: number; skippedOovTargets: number; cutoffs: { k: number; hitRate: number; mrr: number }[]; averagePopularityPercentile?: number }

describe.skipIf(!have)('nextclick evaluate on yoochoose-100k', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  it('trains SR on the fly and makes every one of the 10,152 next-item predictions', async () => {
    const c = capture();
    const code = await main(['evaluate', '--model', 'sr', '--train', join(data, 'train.tsv'), '--test', join(data, 'test.tsv'), '--json'], c.io);
    expect(code).toBe(0);
    const r = JSON.parse(c.text().stdout) as Json;
    expect(r.ok).toBe(true);
    expect(r.events).toBe(13_568);
    expect(r.predictions).toBe(10_152);
    expect(r.skippedOovTargets).toBe(0);
    const at20 = r.cutoffs.find((x) => x.k === 20)!;
    expect(at20.hitRate).toBeGreaterThanOrEqual(0.6);
    expect(at20.mrr).toBeGreaterThanOrEqual(0.33);
    expect(r.averagePopularityPercentile).toBeGreaterThan(0);
  });

  it('evaluates a saved model directory the same as the on-the-fly model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nextclick-eval-'));
    dirs.push(dir);
    const out = join(dir, 'vsknn');
    expect(await main(['train', '--train', join(data, 'train.tsv'), '--model', 'vsknn', '--out', out], capture().io)).toBe(0);
    const saved = capture();
    expect(await main(['evaluate', '--model', out, '--train', join(data, 'train.tsv'), '--test', join(data, 'test.tsv'), '--k', '5,20', '--json'], saved.io)).toBe(0);
    const fly = capture();
    expect(await main(['evaluate', '--model', 'vsknn', '--train', join(data, 'train.tsv'), '--test', join(data, 'test.tsv'), '--k', '5,20', '--json'], fly.io)).toBe(0);
    const a = JSON.parse(saved.text().stdout) as Json;
    const b = JSON.parse(fly.text().stdout) as Json;
    expect(a.cutoffs).toEqual(b.cutoffs);
    expect(a.cutoffs.map((x) => x.k)).toEqual([5, 20]);
    expect(a.cutoffs[1]!.hitRate).toBeGreaterThanOrEqual(0.55);
    // Text table
    const t = capture();
    expect(await main(['evaluate', '--model', out, '--test', join(data, 'test.tsv'), '--quiet'], t.io)).toBe(0);
    expect(t.text().stdout).toMatch(/10152 predictions/);
    expect(t.text().stdout).toMatch(/events\/s/);
  });
});

describe('nextclick evaluate usage', () => {
  it('explains a model that is neither a directory nor a baseline', async () => {
    const c = capture();
    expect(await main(['evaluate', '--model', 'nope', '--test', 'x.tsv'], c.io)).toBe(2);
    expect(c.text().stderr).toMatch(/neither a model directory nor a baseline/);
  });

  it('needs --train to train a baseline on the fly, and valid cut-offs', async () => {
    const c = capture();
    expect(await main(['evaluate', '--model', 'sr', '--test', 'x.tsv'], c.io)).toBe(2);
    expect(c.text().stderr).toMatch(/--train is required/);
    const d = capture();
    expect(await main(['evaluate', '--model', 'sr', '--test', 'x.tsv', '--train', 'y.tsv', '--k', '0'], d.io)).toBe(2);
    expect(d.text().stderr).toMatch(/--k expects/);
  });
});
