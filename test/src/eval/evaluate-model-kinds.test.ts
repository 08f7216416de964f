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
  await trainModel('gru4rec', model, ['layers=32', 'epochs=2', 'nSample=64', 'batchSize=32', 'validationFraction=0', 'seed=1']);
}, 300_000);

/** Trains a saved model with the CLI (tiny settings), failing with its stderr. */
async function trainModel(kind: string, out: string, params: string[], extra: string[] = []): Promise<void> {
  const c = captureIo();
  const code = await main(['train', '--train', train, '--model', kind, '--out', out, '--json', ...extra, ...params.flatMap((p) => ['--param', p])], c.io);
  expect(code, c.text().stdout + c.text().stderr).toBe(0);
}
afterAll(async () => {
  delete process.env['NEXTCLICK_SCORING'];
  await rm(dir, { recursive: true, force: true });
});

describe('evaluate with small models of every kind (CLI)', () => {
  it('evaluates every model kind side by side in one report, by replay and through the serving path', async () => {
    const tx = join(dir, 'tx');
    const bst = join(dir, 'bst');
    const sr = join(dir, 'sr');
    await trainModel('transformer', tx, ['hiddenSize=32', 'heads=2', 'feedForwardSize=64', 'epochs=2', 'nSample=64', 'batchSize=32', 'validationFraction=0', 'seed=1']);
    await trainModel('bst-ranker', bst, ['epochs=1', 'maxPrefixes=300', 'topM=20', 'seed=1'], ['--candidates', tx]);
    await trainModel('sr', sr, []);
    const specs = [model, tx, bst, sr, 'itemknn', 'pop', 'vsknn', 'vsknn:variant=session-rec'];
    for (const serving of [false, true]) {
      const report = join(dir, `all-${String(serving)}.html`);
      const c = captureIo();
      const args = ['evaluate', '--model', specs.join(','), '--train', train, '--test', test, '--report', report, '--json', ...(serving ? ['--serving'] : [])];
      expect(await main(args, c.io), c.text().stderr).toBe(0);
      const out = JSON.parse(c.text().stdout) as { results: (Result & { model: string })[] };
      expect(out.results.map((r) => r.model.split(' ')[0])).toEqual(['gru4rec', 'transformer', 'bst-ranker', 'sr', 'itemknn', 'pop', 'vsknn', 'vsknn:variant=session-rec']);
      for (const r of out.results) {
        expect(r.predictions).toBe(out.results[0]!.predictions);
        expect(r.mode).toBe(serving ? 'serving' : 'replay');
        expect(r.latency !== undefined).toBe(serving);
      }
      const { readFile } = await import('node:fs/promises');
      const html = await readFile(report, 'utf8');
      for (const r of out.results) expect(html).toContain(r.model);
    }
  }, 600_000);

  it('--serving goes through a GRU4Rec\'s ANN candidates (index built in the model directory) with accuracy close to exact replay', async () => {
    const exact = captureIo();
    expect(await main(['evaluate', '--model', model, '--test', test, '--k', '20', '--json'], exact.io)).toBe(0);
    const replay = JSON.parse(exact.text().stdout) as Result;

    process.env['NEXTCLICK_SCORING'] = 'ann';
    const report = join(dir, 'serving.html');
    const c = captureIo();
    expect(await main(['evaluate', '--model', model, '--test', test, '--k', '20', '--serving', '--report', report, '--json'], c.io), c.text().stderr).toBe(0);
    const served = JSON.parse(c.text().stdout) as Result;
    expect((await readdir(model)).some((f) => f.endsWith('.hnsw'))).toBe(true);
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
