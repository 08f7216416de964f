// A tune trial of each neural kind stops when told to (the trainers' onEpoch hook), and trials run in child
// processes (--parallel 2, the built CLI) give the same table as in one process.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTrialJob, type TrialJob } from '../../../src/cli/tune-trial.js';
import { readManifest } from '../../../src/persistence/model-dir.js';
import { generateSessions } from '../../../src/synthetic/index.js';
import type { TrialEpoch, TrialRecord } from '../../../src/tuning/trial-store.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

let dir = '';
let train = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nextclick-tune-trial-'));
  const log = generateSessions({ items: 60, intents: 4, sessions: 300, seed: 11 });
  train = join(dir, 'train.tsv');
  await writeFile(train, ['SessionId\tItemId\tTime', ...log.train.flatMap((s) => s.items.map((it, i) => `${s.sessionId}\t${it}\t${s.times[i]! / 1000}`))].join('\n') + '\n');
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('tune trials', () => {
  for (const kind of ['gru4rec', 'transformer']) {
    it(`${kind}: a stop verdict after epoch 1 ends training there and keeps a loadable model`, async () => {
      const job: TrialJob = { trial: 1, kind, params: { epochs: '4', layers: '32', hiddenSize: '32', nSample: '64' }, trainPath: train, readOptions: { format: 'tsv', onBadLine: 'error' }, validationFraction: 0.1, outDir: join(dir, kind) };
      if (kind === 'gru4rec') delete (job.params as Record<string, string>)['hiddenSize'];
      else delete (job.params as Record<string, string>)['layers'];
      const reported: TrialEpoch[] = [];
      const kept = await runTrialJob(job, async (e) => { reported.push(e); return 'stop'; });
      expect(reported.map((e) => e.epoch)).toEqual([1]);
      expect(kept).toMatchObject({ epoch: 1, hitRate: reported[0]!.hitRate, mrr: reported[0]!.mrr });
      expect(kept.hitRate).toBeGreaterThan(0);
      const manifest = await readManifest(job.outDir);
      expect(manifest.kind).toBe(kind);
      expect(manifest.metrics?.['epochsRun']).toBe(1);
    }, HEAVY_TEST_TIMEOUT_MS);
  }

  it('runs trials in child processes (--parallel 2) with the same results as one after the other', async () => {
    // The built CLI: trial processes run compiled JavaScript. A smaller log than above: the defaults trial
    // trains GRU4Rec's full default size.
    const small = join(dir, 'small.tsv');
    const log = generateSessions({ items: 40, intents: 3, sessions: 120, seed: 5 });
    await writeFile(small, ['SessionId\tItemId\tTime', ...log.train.flatMap((s) => s.items.map((it, i) => `${s.sessionId}\t${it}\t${s.times[i]! / 1000}`))].join('\n') + '\n');
    const cli = join(process.cwd(), 'bin', 'nextclick.js');
    const run = async (parallel: string) => {
      const out = join(dir, `parallel-${parallel}`);
      await promisify(execFile)(process.execPath, [cli, 'tune', '--model', 'gru4rec', '--train', small, '--out', out, '--trials', '3', '--max-epochs', '2', '--eta', '2', '--valid-fraction', '0.2', '--parallel', parallel, '--quiet', '--json']);
      const rows = (await readFile(join(out, 'trials.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as TrialRecord);
      return rows.map(({ seconds: _seconds, ...rest }) => rest).sort((a, b) => a.trial - b.trial);
    };
    const together = await run('2');
    const sequential = await run('1');
    expect(together).toEqual(sequential);
    expect(together).toHaveLength(3);
    expect(together.every((t) => t.status !== 'failed')).toBe(true);
  }, HEAVY_TEST_TIMEOUT_MS);
});
