// runTrials with a scripted runner: each trial's per-epoch values are a function of its parameters, and the
// order in which parallel trials report is forced by the test, never by timing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SuccessiveHalving } from '../../../src/tuning/successive-halving.js';
import { TrialStore } from '../../../src/tuning/trial-store.js';
import { objectiveOf, runTrials, selectionScore, type TrialPlan, type TrialRunner } from '../../../src/tuning/tuner.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function store(): Promise<TrialStore> {
  const d = await mkdtemp(join(tmpdir(), 'nextclick-tuner-'));
  dirs.push(d);
  return TrialStore.open(join(d, 'trials.jsonl'));
}

/** Trial n has quality q(n); after epoch e its validation MRR is q·e/10. */
const EPOCHS = 5;
const quality = [0.5, 0.9, 0.2, 0.7, 0.3, 0.8, 0.1, 0.6];
const plan = (trial: number): TrialPlan | undefined => (trial < quality.length ? { kind: 'toy', defaults: trial === 0, params: { q: quality[trial]! }, epochs: EPOCHS } : undefined);

/** A runner that trains EPOCHS epochs, stops on a `stop` verdict, and keeps its best epoch. */
function scriptedRunner(ran: number[], gate?: (trial: number, epoch: number) => Promise<void>): TrialRunner {
  return async (c) => {
    ran.push(c.trial);
    const q = c.plan.params['q'] as number;
    let best = { epoch: 0, hitRate: 0, mrr: 0 };
    for (let e = 1; e <= EPOCHS; e++) {
      await gate?.(c.trial, e);
      const figures = { epoch: e, hitRate: q * e / 5, mrr: q * e / 10 };
      if (figures.mrr > best.mrr) best = figures;
      if ((await c.reportEpoch(figures)) === 'stop') break;
    }
    return best;
  };
}

const summary = (s: TrialStore) => [...s.records].sort((a, b) => a.trial - b.trial).map((r) => [r.trial, r.status, r.epochs.length, r.score]);

describe('runTrials', () => {
  it('prunes at the rungs, never the defaults, and finds the best trial', async () => {
    const s = await store();
    const ran: number[] = [];
    const out = await runTrials({ plan, runner: scriptedRunner(ran), store: s, scheduler: new SuccessiveHalving({ eta: 3, rungs: [1, 3] }), objective: 'mrr' });
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(out.best?.trial).toBe(1);
    expect(out.ran).toBe(8);
    const byTrial = new Map(s.records.map((r) => [r.trial, r]));
    expect(byTrial.get(0)!.status).toBe('completed'); // the defaults always finish
    expect(byTrial.get(2)!.status).toBe('pruned');
    expect(byTrial.get(2)!.epochs).toHaveLength(1);
    expect(byTrial.get(1)!.epochs).toHaveLength(EPOCHS);
    expect(s.records.filter((r) => r.status === 'pruned').length).toBeGreaterThanOrEqual(3);
  });

  it('gives the same trials with 3 at once, whatever order they report in (ordered verdicts)', async () => {
    const sequential = await store();
    await runTrials({ plan, runner: scriptedRunner([]), store: sequential, scheduler: new SuccessiveHalving({ eta: 3, rungs: [1, 3] }), objective: 'mrr' });
    // Parallel: later trials are let through each epoch before earlier ones (the worst order for ordered verdicts).
    const parallel = await store();
    const released = new Map<string, () => void>();
    const gate = (trial: number, epoch: number) => new Promise<void>((resolve) => {
      released.set(`${trial}:${epoch}`, resolve);
      // Release the highest-numbered waiting trial first, on the next turn.
      setImmediate(() => {
        const keys = [...released.keys()].sort((a, b) => Number(b.split(':')[0]) - Number(a.split(':')[0]));
        const k = keys[0]!;
        const r = released.get(k)!;
        released.delete(k);
        r();
      });
    });
    await runTrials({ plan, runner: scriptedRunner([], gate), store: parallel, scheduler: new SuccessiveHalving({ eta: 3, rungs: [1, 3] }), objective: 'mrr', parallel: 3 });
    expect(summary(parallel)).toEqual(summary(sequential));
  });

  it('resumes: trials already in the table are not run again and still take part in the verdicts', async () => {
    const s = await store();
    const first: number[] = [];
    await runTrials({ plan, runner: scriptedRunner(first), store: s, scheduler: new SuccessiveHalving({ eta: 3, rungs: [1, 3] }), objective: 'mrr', maxTrials: 4 });
    expect(first).toEqual([0, 1, 2, 3]);
    const again = await TrialStore.open(s.path);
    const second: number[] = [];
    const out = await runTrials({ plan, runner: scriptedRunner(second), store: again, scheduler: new SuccessiveHalving({ eta: 3, rungs: [1, 3] }), objective: 'mrr' });
    expect(second).toEqual([4, 5, 6, 7]);
    expect(out.ran).toBe(4);
    const whole = await store();
    await runTrials({ plan, runner: scriptedRunner([]), store: whole, scheduler: new SuccessiveHalving({ eta: 3, rungs: [1, 3] }), objective: 'mrr' });
    expect(summary(again)).toEqual(summary(whole));
  });

  it('stops at the wall-clock budget: running trials end at their next epoch, no new trial starts', async () => {
    const s = await store();
    let clock = 0;
    const ran: number[] = [];
    // Each epoch advances a fake clock by 10 s; the budget is 25 s.
    const runner: TrialRunner = async (c) => {
      ran.push(c.trial);
      expect(c.secondsLeft).toBeGreaterThan(0);
      let last = { epoch: 0, hitRate: 0, mrr: 0 };
      for (let e = 1; e <= EPOCHS; e++) {
        clock += 10_000;
        last = { epoch: e, hitRate: 0.1 * e, mrr: 0.05 * e };
        if ((await c.reportEpoch(last)) === 'stop') break;
      }
      return last;
    };
    const out = await runTrials({ plan, runner, store: s, scheduler: new SuccessiveHalving({ eta: 3, rungs: [1, 3] }), objective: 'mrr', budgetSeconds: 25, now: () => clock });
    // Trial 0: epoch 1 ends at 10 s and goes on; epoch 2 ends at 20 s, and a third would end at 30 s, past the
    // budget. Trial 1 starts at 20 s (5 s left); its first epoch ends at 30 s, past it. Then nothing starts.
    expect(ran).toEqual([0, 1]);
    expect(out.outOfTime).toBe(true);
    expect(s.records.map((r) => [r.trial, r.status, r.epochs.length])).toEqual([[0, 'out-of-time', 2], [1, 'out-of-time', 1]]);
  });

  it('aborts a trial still in its first epoch when the budget is spent, and records it without a score', async () => {
    const s = await store();
    let clock = 0;
    const runner: TrialRunner = async (c) => {
      if (c.trial === 1) {
        // Never reports: waits to be aborted, as a trial process is killed.
        return new Promise((_, reject) => c.signal.addEventListener('abort', () => reject(new Error('killed')), { once: true }));
      }
      await new Promise((r) => setImmediate(r));
      clock += 30_000;
      const e = { epoch: 1, hitRate: 0.2, mrr: 0.1 };
      expect(await c.reportEpoch(e)).toBe('stop');
      return e;
    };
    const out = await runTrials({ plan, runner, store: s, scheduler: new SuccessiveHalving({ eta: 3, rungs: [1, 3] }), objective: 'mrr', budgetSeconds: 25, parallel: 2, now: () => clock });
    const rows = [...s.records].sort((a, b) => a.trial - b.trial);
    expect(rows.map((r) => [r.trial, r.status, r.epochs.length, r.score])).toEqual([[0, 'out-of-time', 1, 0.1], [1, 'out-of-time', 0, undefined]]);
    expect(rows[1]!.error).toMatch(/budget ran out before its first epoch/);
    expect(out.best?.trial).toBe(0);
  });

  it('records a trial that throws as failed and goes on', async () => {
    const s = await store();
    const runner: TrialRunner = async (c) => {
      if (c.trial === 1) throw new Error('out of memory');
      return { epoch: 0, hitRate: 0.1, mrr: 0.05 };
    };
    const out = await runTrials({ plan, runner, store: s, scheduler: new SuccessiveHalving({ eta: 3, rungs: [] }), objective: 'hitRate', maxTrials: 3 });
    expect(s.records.map((r) => r.status)).toEqual(['completed', 'failed', 'completed']);
    expect(s.records[1]!.error).toBe('out of memory');
    expect(out.best?.trial).toBe(0);
  });
  it('objectiveOf: hitRate+mrr is the sum the neural models early-stop on; mrr and hitRate are the figures alone', () => {
    const e = { epoch: 1, hitRate: 0.5, mrr: 0.2 };
    expect(objectiveOf(e, 'hitRate+mrr')).toBeCloseTo(0.7);
    expect(objectiveOf(e, 'hitRate+mrr')).toBe(selectionScore(0.5, 0.2));
    expect(objectiveOf(e, 'mrr')).toBe(0.2);
    expect(objectiveOf(e, 'hitRate')).toBe(0.5);
  });
});
