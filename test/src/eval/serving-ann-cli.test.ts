import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { generateSessions, type SyntheticSession } from '../../../src/synthetic/index.js';
import { captureIo } from '../../helpers/capture-io.js';

let dir: string;
let train: string;
let test: string;
let model: string;

const tsv = (sessions: readonly SyntheticSession[]) =>
  `SessionId\tItemId\tTime\n${sessions.flatMap((s) => s.items.map((it, i) => `${s.sessionId}\t${it}\t${s.times[i]! / 1000}`)).join('\n')}\n`;

interface Result { mode: string; predictions: number; cutoffs: { k: number; hitRate: number; mrr: number }[]; latency?: { events: number; p50Ms: number } }

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nextclick-serving-ann-'));
  const syn = generateSessions({ items: 300, intents: 8, sessions: 800, seed: 5 });
  train = join(dir, 'train.tsv');
  test = join(dir, 'test.tsv');
  await writeFile(train, tsv(syn.train));
  await writeFile(test, tsv(syn.test));
  model = join(dir, 'gru');
  const c = captureIo();
  const code = await main(['train', '--train', train, '--model', 'gru4rec', '--out', model, '--json',
    '--param', 'layers=32', '--param', 'epochs=2', '--param', 'nSample=64', '--param', 'batchSize=32', '--param', 'validationFraction=0', '--param', 'seed=1'], c.io);
  expect(code, c.text().stderr).toBe(0);
}, 300_000);
afterAll(async () => {
  delete process.env['NEXTCLICK_SCORING'];
  await rm(dir, { recursive: true, force: true });
});

describe('evaluate --serving with a small GRU4Rec and its ANN index', () => {
  it('serves through the ANN candidates (index built in the model directory) with accuracy close to exact replay', async () => {
    const exact = captureIo();
    expect(await main(['evaluate', '--model', model, '--test', test, '--k', '20', '--json'], exact.io)).toBe(0);
    const replay = JSON.parse(exact.text().stdout) as Result;

    process.env['NEXTCLICK_SCORING'] = 'ann';
    const report = join(dir, 'serving.html');
    const c = captureIo();
    expect(await main(['evaluate', '--model', model, '--test', test, '--k', '20', '--serving', '--report', report, '--json'], c.io), c.text().stderr).toBe(0);
    const served = JSON.parse(c.text().stdout) as Result;
    expect((await readdir(model)).some((f) => f.endsWith('.usearch'))).toBe(true);
    expect(served.mode).toBe('serving');
    expect(served.predictions).toBe(replay.predictions);
    expect(served.latency!.events).toBeGreaterThan(served.predictions);
    // The model learnt something, and ANN candidates (re-scored exactly) lose little of it.
    expect(replay.cutoffs[0]!.hitRate).toBeGreaterThan(0.2);
    expect(Math.abs(served.cutoffs[0]!.hitRate - replay.cutoffs[0]!.hitRate)).toBeLessThan(0.05);
    const { readFile } = await import('node:fs/promises');
    const html = await readFile(report, 'utf8');
    expect(html).toContain('NEXTCLICK_SCORING=ann nextclick evaluate');
    expect(html).toMatch(/Latency per event/);
  }, 300_000);
});
