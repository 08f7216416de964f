// `nextclick tune` end to end on a small synthetic log, in this process (--parallel 1) unless a test says
// otherwise. Fixed seeds; nothing depends on timing (step budgets: --trials).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { generateSessions, type SyntheticSession } from '../../../src/synthetic/index.js';
import type { TrialRecord } from '../../../src/tuning/trial-store.js';
import { captureIo } from '../../helpers/capture-io.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

let dir = '';
let train = '';
let test = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nextclick-tune-'));
  const log = generateSessions({ items: 80, intents: 5, sessions: 400, seed: 7 });
  const tsv = (sessions: SyntheticSession[]) => ['SessionId\tItemId\tTime', ...sessions.flatMap((s) => s.items.map((it, i) => `${s.sessionId}\t${it}\t${s.times[i]! / 1000}`))].join('\n') + '\n';
  train = join(dir, 'train.tsv');
  test = join(dir, 'test.tsv');
  await writeFile(train, tsv(log.train));
  await writeFile(test, tsv(log.test));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function tune(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = captureIo();
  const code = await main(['tune', '--train', train, ...args], c.io);
  return { code, ...c.text() };
}

async function trials(out: string): Promise<TrialRecord[]> {
  return (await readFile(join(out, 'trials.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as TrialRecord);
}

describe('nextclick tune', () => {
  it('tunes a baseline within a trial budget: trials table, best parameters, a model evaluate loads, an HTML report', async () => {
    const out = join(dir, 'sr');
    const report = join(dir, 'sr.html');
    const r = await tune(['--model', 'sr', '--out', out, '--trials', '6', '--parallel', '1', '--report', report, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { ok: boolean; trials: number; best: { kind: string; trial: number; validation: { score: number }; defaultsValidation: Record<string, number>; trainCommand: string } };
    expect(summary).toMatchObject({ ok: true, trials: 6 });
    const rows = await trials(out);
    expect(rows.map((t) => t.trial).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows.find((t) => t.trial === 0)).toMatchObject({ kind: 'sr', defaults: true, params: {} });
    expect(new Set(rows.map((t) => JSON.stringify(t.params))).size).toBe(6);
    // Never worse than the defaults on validation: the defaults are trial 0.
    expect(summary.best.validation.score).toBe(Math.max(...rows.map((t) => t.score!)));
    expect(summary.best.validation.score).toBeGreaterThanOrEqual(summary.best.defaultsValidation['sr']!);
    const saved = JSON.parse(await readFile(join(out, 'best-params.json'), 'utf8')) as { trial: number; trainCommand: string };
    expect(saved.trial).toBe(summary.best.trial);
    expect(saved.trainCommand).toMatch(/^nextclick train --model sr --train /);
    expect(r.stderr).toMatch(/tune: trial 0 sr defaults/);
    expect(r.stderr).toMatch(/best so far: trial \d+ sr/);
    const html = await readFile(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('nextclick tuning report');
    expect((html.match(/<tr>/g) ?? []).length).toBeGreaterThanOrEqual(7);

    const e = captureIo();
    expect(await main(['evaluate', '--model', join(out, 'model'), '--test', test, '--json'], e.io)).toBe(0);
    const evaluated = JSON.parse(e.text().stdout) as { ok: boolean; predictions: number; cutoffs: { k: number; hitRate: number }[] };
    expect(evaluated.predictions).toBeGreaterThan(100);
    expect(evaluated.cutoffs.find((c) => c.k === 20)!.hitRate).toBeGreaterThan(0);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('resumes: finished trials are read back, not run again', async () => {
    const out = join(dir, 'vsknn');
    const first = await tune(['--model', 'vsknn', '--out', out, '--trials', '3', '--parallel', '1', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const before = await trials(out);
    const again = await tune(['--model', 'vsknn', '--out', out, '--trials', '3', '--parallel', '1', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ trials: 3, ranNow: 0 });
    expect(again.stderr).toMatch(/resuming .*3 trials already run/);
    const more = await tune(['--model', 'vsknn', '--out', out, '--trials', '5', '--parallel', '1', '--json']);
    expect(JSON.parse(more.stdout)).toMatchObject({ trials: 5, ranNow: 2 });
    const after = await trials(out);
    expect(after.slice(0, 3)).toEqual(before);
    expect(after.slice(3).map((t) => t.trial)).toEqual([3, 4]);
    // Other settings in the same directory are refused, not mixed in.
    const other = await tune(['--model', 'vsknn', '--out', out, '--trials', '5', '--seed', '7']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/other settings \(seed: 42 then, 7 now\)/);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('auto tries every kind, neural ones epoch by epoch, and keeps the best kind', async () => {
    const out = join(dir, 'auto');
    const r = await tune(['--model', 'auto', '--out', out, '--trials', '6', '--max-epochs', '2', '--parallel', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = await trials(out);
    expect(new Set(rows.filter((t) => t.defaults).map((t) => t.kind))).toEqual(new Set(['sr', 'vsknn', 'gru4rec', 'transformer']));
    for (const t of rows.filter((x) => x.kind === 'gru4rec' || x.kind === 'transformer')) {
      expect(t.status === 'failed' ? t.error : t.status).toMatch(/completed|pruned/);
      expect(t.epochs.length).toBeGreaterThanOrEqual(1);
      expect(t.epochs.length).toBeLessThanOrEqual(2);
    }
    const summary = JSON.parse(r.stdout) as { best: { kind: string; trial: number; validation: { score: number } } };
    const best = rows.filter((t) => t.status !== 'pruned' && t.status !== 'failed').sort((a, b) => b.score! - a.score! || a.trial - b.trial)[0]!;
    expect(summary.best).toMatchObject({ kind: best.kind, trial: best.trial });
    const manifest = JSON.parse(await readFile(join(out, 'model', 'model.json'), 'utf8')) as { kind: string };
    expect(manifest.kind).toBe(best.kind);
    expect(existsSync(join(out, 'model', 'checkpoint'))).toBe(false);
    const e = captureIo();
    expect(await main(['evaluate', '--model', join(out, 'model'), '--test', test, '--json'], e.io)).toBe(0);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('exits 2 with a message for bad input', async () => {
    const out = join(dir, 'bad');
    const cases: [string[], RegExp][] = [
      [['--model', 'nope', '--out', out, '--trials', '1'], /cannot be tuned; choose one of .*auto/],
      [['--model', 'sr', '--out', out, '--budget', '10x'], /--budget expects seconds \(120\) or a duration/],
      [['--model', 'sr', '--out', out], /give a budget/],
      [['--model', 'sr', '--out', out, '--trials', '0'], /--trials expects an integer ≥ 1/],
      [['--model', 'sr', '--out', out, '--trials', '2', '--metric', 'auc'], /--metric must be hr\+mrr, mrr or hr/],
      [['--model', 'sr', '--out', out, '--trials', '2', '--eta', '1'], /--eta expects an integer ≥ 2/],
      [['--model', 'sr', '--out', out, '--trials', '2', '--bogus'], /Unknown option '--bogus'/],
      [['--model', 'sr', '--trials', '2'], /--out is required/],
    ];
    for (const [args, message] of cases) {
      const r = await tune(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const empty = join(dir, 'empty.tsv');
    await writeFile(empty, 'SessionId\tItemId\tTime\n');
    const c = captureIo();
    expect(await main(['tune', '--model', 'sr', '--train', empty, '--out', out, '--trials', '1'], c.io)).toBe(2);
    expect(c.text().stderr).toMatch(/holds no events/);
    // A directory with other files (here: the logs) is not taken over.
    const d = captureIo();
    expect(await main(['tune', '--model', 'sr', '--train', train, '--out', dir, '--trials', '1'], d.io)).toBe(2);
    expect(d.text().stderr).toMatch(/holds no tuning run/);
    expect(existsSync(join(dir, 'tune.json'))).toBe(false);
  });

  it('documents its options and search spaces in --help', async () => {
    const c = captureIo();
    expect(await main(['tune', '--help'], c.io)).toBe(0);
    const help = c.text().stdout;
    for (const flag of ['--model', '--train', '--format', '--out', '--budget', '--trials', '--parallel', '--seed', '--metric', '--eta', '--max-epochs', '--valid-fraction', '--async', '--report', '--skip-bad-lines', '--quiet', '--json']) expect(help).toContain(flag);
    for (const kind of ['gru4rec', 'transformer', 'vsknn', 'sr']) expect(help).toMatch(new RegExp(`^  ${kind}`, 'm'));
    expect(help).toMatch(/learningRate\s+float 0.01..0.3 \(log scale\)/);
  });
});
