import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bestTrial, TrialStore, type TrialRecord } from '../../../src/tuning/trial-store.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'nextclick-trials-'));
  dirs.push(d);
  return d;
}

const row = (trial: number, score: number | undefined, status: TrialRecord['status'] = 'completed', defaults = false): TrialRecord => ({
  trial, kind: 'sr', defaults, params: defaults ? {} : { steps: trial }, status, epochs: [], ...(score !== undefined ? { score } : {}), seconds: 1,
});

describe('TrialStore', () => {
  it('appends trials and reads them back in a new store', async () => {
    const path = join(await tmp(), 'trials.jsonl');
    const a = await TrialStore.open(path);
    expect(a.records).toEqual([]);
    await a.append(row(0, 0.2, 'completed', true));
    await a.append(row(1, 0.3));
    const b = await TrialStore.open(path);
    expect(b.records).toEqual([row(0, 0.2, 'completed', true), row(1, 0.3)]);
    expect(b.find(1)?.params).toEqual({ steps: 1 });
    expect(b.find(2)).toBeUndefined();
  });

  it('drops a last line cut short by a kill, so the next row starts on a line of its own', async () => {
    const path = join(await tmp(), 'trials.jsonl');
    await writeFile(path, JSON.stringify(row(0, 0.2)) + '\n' + '{"trial":1,"kind":"s');
    const s = await TrialStore.open(path);
    expect(s.tornLines).toBe(1);
    expect(s.records.map((r) => r.trial)).toEqual([0]);
    await s.append(row(1, 0.1));
    expect((await TrialStore.open(path)).records.map((r) => r.trial)).toEqual([0, 1]);
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('refuses a damaged line in the middle, naming the file and line', async () => {
    const path = join(await tmp(), 'trials.jsonl');
    await writeFile(path, 'nonsense\n' + JSON.stringify(row(0, 0.2)) + '\n');
    await expect(TrialStore.open(path)).rejects.toThrow(/trials\.jsonl:1: not a trial record/);
  });
});

describe('bestTrial', () => {
  it('takes the highest score of trials that kept a model, the lower trial number on ties', () => {
    expect(bestTrial([])).toBeUndefined();
    expect(bestTrial([row(0, 0.2), row(1, 0.5, 'pruned'), row(2, undefined, 'failed'), row(3, 0.3, 'out-of-time')])?.trial).toBe(3);
    expect(bestTrial([row(0, 0.3, 'completed', true), row(1, 0.3)])?.trial).toBe(0);
  });
});
