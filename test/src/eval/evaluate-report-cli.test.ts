import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { generateSessions, type SyntheticSession } from '../../../src/synthetic/index.js';
import { captureIo } from '../../helpers/capture-io.js';

let dir: string;
let train: string;
let test: string;

const tsv = (sessions: readonly SyntheticSession[]) =>
  `SessionId\tItemId\tTime\n${sessions.flatMap((s) => s.items.map((it, i) => `${s.sessionId}\t${it}\t${s.times[i]! / 1000}`)).join('\n')}\n`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nextclick-eval-report-'));
  const syn = generateSessions({ items: 150, sessions: 500, seed: 3 });
  train = join(dir, 'train.tsv');
  test = join(dir, 'test.tsv');
  await writeFile(train, tsv(syn.train));
  await writeFile(test, tsv(syn.test));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

interface Result { model: string; mode: string; predictions: number; repeatShare: number; cutoffs: { k: number; hitRate: number }[]; latency?: { events: number }; params?: Record<string, string> }

describe('nextclick evaluate with several models and --report', () => {
  it('evaluates a comma list and a repeated --model side by side and writes one HTML report', async () => {
    const report = join(dir, 'r.html');
    const saved = join(dir, 'sr-model');
    expect(await main(['train', '--train', train, '--model', 'sr', '--out', saved], captureIo().io)).toBe(0);
    const c = captureIo();
    const code = await main(['evaluate', '--model', 'pop,vsknn:variant=session-rec', '--model-dir', saved, '--train', train, '--test', test, '--report', report, '--json'], c.io);
    expect(code, c.text().stderr).toBe(0);
    const out = JSON.parse(c.text().stdout) as { ok: boolean; report: string; results: Result[] };
    expect(out.ok).toBe(true);
    expect(out.report).toBe(report);
    expect(out.results.map((r) => r.model)).toEqual(['pop', 'vsknn:variant=session-rec', `sr (${saved})`]);
    expect(out.results[1]!.params).toEqual({ variant: 'session-rec' });
    // Same test log for all: same predictions and repeat share; --report's default cut-offs reach 50.
    expect(new Set(out.results.map((r) => r.predictions)).size).toBe(1);
    expect(out.results[0]!.cutoffs.map((x) => x.k)).toEqual([1, 5, 10, 20, 50]);
    const html = await readFile(report, 'utf8');
    expect(html).toContain('nextclick evaluate --model pop,vsknn:variant=session-rec --model-dir');
    for (const r of out.results) expect(html).toContain(r.model.replace(/&/g, '&amp;'));
    expect(html).toMatch(/<td>train<\/td><td>train\.tsv<\/td>/);
    expect(html).toMatch(/Latency was not measured/);
  });

  it('--serving replays through the serving path and puts the latency histogram in the report', async () => {
    const report = join(dir, 's.html');
    const c = captureIo();
    expect(await main(['evaluate', '--model', 'sr', '--train', train, '--test', test, '--serving', '--sessions', '16', '--report', report, '--json'], c.io)).toBe(0);
    const r = JSON.parse(c.text().stdout) as Result;
    expect(r.mode).toBe('serving');
    expect(r.latency!.events).toBeGreaterThan(0);
    expect(r.cutoffs.find((x) => x.k === 20)!.hitRate).toBeGreaterThan(0.1);
    const html = await readFile(report, 'utf8');
    expect(html).toMatch(/Latency per event/);
    const t = captureIo();
    expect(await main(['evaluate', '--model', 'sr', '--train', train, '--test', test, '--serving', '--quiet'], t.io)).toBe(0);
    expect(t.text().stdout).toMatch(/serving latency per event: mean/);
  });

  it('explains bad model parameters and --sessions without --serving', async () => {
    const a = captureIo();
    expect(await main(['evaluate', '--model', 'vsknn:variant', '--train', train, '--test', test], a.io)).toBe(2);
    expect(a.text().stderr).toMatch(/key=value/);
    const b = captureIo();
    expect(await main(['evaluate', '--model', 'sr', '--train', train, '--test', test, '--sessions', '4'], b.io)).toBe(2);
    expect(b.text().stderr).toMatch(/--sessions applies to --serving/);
    const t = captureIo();
    expect(await main(['evaluate', '--model', 'sr', '--train', train, '--test', test, '--serving', '--tie', 'optimistic'], t.io)).toBe(2);
    expect(t.text().stderr).toMatch(/--tie applies to replay/);
    expect(existsSync(join(dir, 'never.html'))).toBe(false);
  });
});
