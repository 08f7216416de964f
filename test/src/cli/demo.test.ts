import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { demoModels } from '../../../src/cli/trainers.js';
import { captureIo } from '../../helpers/capture-io.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

const capture = captureIo;

interface DemoJson { ok: boolean; results: { model: string; predictions: number; cutoffs: { k: number; mrr: number }[]; eventsPerSecond: number }[] }

describe('nextclick demo', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  it('trains every demo model on the synthetic log and reports metrics as JSON', async () => {
    const c = capture();
    expect(await main(['demo', '--sessions', '1500', '--seed', '3', '--json'], c.io)).toBe(0);
    const r = JSON.parse(c.text().stdout) as DemoJson;
    expect(r.ok).toBe(true);
    const labels = r.results.map((x) => x.model);
    for (const kind of ['pop', 'itemknn', 'sr', 'vsknn']) expect(labels).toContain(kind);
    const mrr = (m: string) => r.results.find((x) => x.model === m)!.cutoffs.find((x) => x.k === 20)!.mrr;
    expect(mrr('sr')).toBeGreaterThan(2 * mrr('pop'));
    const preds = new Set(r.results.map((x) => x.predictions));
    expect(preds.size).toBe(1); // every model sees the same predictions
    expect(r.results.every((x) => x.eventsPerSecond > 0)).toBe(true);
  });

  it('prints a comparison table', async () => {
    const c = capture();
    expect(await main(['demo', '--sessions', '600', '--k', '10'], c.io)).toBe(0);
    const out = c.text().stdout;
    expect(out).toMatch(/synthetic log/);
    // Every column of the table is explained in words under it.
    const [table, legend] = out.split(/\n\n(?=  HR@)/);
    expect(table).toMatch(/HR@10 +MRR@10 +NDCG@10 +Cov@10 +Pop%ile/);
    for (const column of ['HR@10', 'MRR@10', 'NDCG@10', 'Cov@10', 'Pop%ile', 'preds']) expect(legend).toMatch(new RegExp(`^  ${column} +\\S`, 'm'));
    expect(c.text().stderr).not.toMatch(/epoch \d/); // not a terminal: no training progress
  });

  it('shows training progress on a terminal: a line per epoch of each neural model', async () => {
    const c = capture();
    Object.assign(c.io.stderr, { isTTY: true });
    expect(await main(['demo', '--sessions', '300', '--k', '10'], c.io)).toBe(0);
    const stderr = c.text().stderr;
    for (const model of demoModels.map((m) => m.label).filter((l) => l === 'gru4rec' || l === 'transformer')) {
      expect(stderr, model).toMatch(new RegExp(`${model} epoch 1/`));
    }
    expect(stderr).toMatch(/^epoch 1: loss \d/m);
  });

  it('exposes an extension list of demo models', () => {
    expect(demoModels.map((m) => m.label)).toEqual(expect.arrayContaining(['pop', 'itemknn', 'sr', 'vsknn']));
  });
});
