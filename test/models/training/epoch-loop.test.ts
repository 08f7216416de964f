import { describe, expect, it } from 'vitest';
import { runEpochs, type EpochLoop } from '../../../models/training/epoch-loop.js';
import { selectionScore } from '../../../src/tuning/tuner.js';
import type { NextItemMetrics } from '../../../models/training/evaluate-next-item.js';
import { noopLogger } from '../../../src/instrumentation/typed-emitter.js';

/** A fake model: one weight that is set to the epoch number; validation figures per epoch from the table. */
function fakeLoop(figures: readonly [number, number][], over: Partial<EpochLoop> = {}): EpochLoop & { weight: Float32Array; steps: number[] } {
  const weight = new Float32Array(1);
  let current = 0;
  const steps: number[] = [];
  return {
    name: 'fake', epochs: figures.length, patience: 0, maxSeconds: 0, logger: noopLogger, weight, steps,
    trainEpoch: async (epoch, shouldStop) => {
      current = epoch;
      let n = 0;
      while (n < 5 && !shouldStop()) n++;
      steps.push(n);
      weight[0] = epoch;
      return { events: n, lossSum: n };
    },
    validate: async () => {
      const f = figures[current - 1];
      return f ? ({ recall: f[0], mrr: f[1] } as NextItemMetrics) : undefined;
    },
    weights: () => [weight],
    ...over,
  };
}

describe('runEpochs', () => {
  it('keeps the epoch with the best Recall@20 + MRR@20, not the best of either alone', async () => {
    // Epoch 1 has the best MRR, epoch 3 the best recall, epoch 2 the best sum.
    const loop = fakeLoop([[0.40, 0.20], [0.48, 0.19], [0.49, 0.17]]);
    const r = await runEpochs(loop);
    expect(r.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(r.bestEpoch).toBe(2);
    expect(loop.weight[0]).toBe(2);
    expect(selectionScore(0.48, 0.19)).toBeCloseTo(0.67);
  });

  it('stops after `patience` epochs without a better score, and on onEpoch\'s stop', async () => {
    const patient = fakeLoop([[0.5, 0.2], [0.4, 0.2], [0.4, 0.1], [0.9, 0.9]], { patience: 2 });
    const a = await runEpochs(patient);
    expect(a.epochs).toHaveLength(3);
    expect(a.bestEpoch).toBe(1);
    expect(patient.weight[0]).toBe(1);
    const b = await runEpochs(fakeLoop([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]], { onEpoch: (m) => (m.epoch === 2 ? 'stop' : 'continue') }));
    expect(b.epochs).toHaveLength(2);
    expect(b.bestEpoch).toBe(2);
  });

  it('without validation keeps the last epoch', async () => {
    const loop = fakeLoop([], { epochs: 3 });
    const r = await runEpochs(loop);
    expect(r.bestEpoch).toBe(3);
    expect(loop.weight[0]).toBe(3);
    expect(r.epochs.every((e) => e.validation === undefined)).toBe(true);
  });

  it('maxSeconds ends the epoch in progress (validated, marked cutShort) and starts no other', async () => {
    const loop = fakeLoop([[0.1, 0.1], [0.2, 0.2]], { maxSeconds: 1e-9 });
    const r = await runEpochs(loop);
    expect(r.epochs).toHaveLength(1);
    expect(r.epochs[0]).toMatchObject({ cutShort: true, events: loop.steps[0] });
    expect(loop.steps[0]).toBeLessThan(5);
    expect(r.epochs[0]!.validation).toBeDefined();
  });

  it('rejects with CancelledError when the signal aborts during an epoch', async () => {
    const ac = new AbortController();
    const loop = fakeLoop([[0.1, 0.1], [0.2, 0.2]], { signal: ac.signal, onEpoch: () => { ac.abort(); } });
    const base = loop.trainEpoch;
    let calls = 0;
    await expect(runEpochs({ ...loop, trainEpoch: (e, s) => { calls++; return base(e, s); } })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(calls).toBe(2);
  });
});
