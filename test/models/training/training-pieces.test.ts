import { describe, expect, it } from 'vitest';
import { EarlyStopping } from '../../../models/training/epoch-loop.js';
import { OptimizedParameter, RowGradientAccumulator, defaultOptimizerOptions } from '../../../models/training/optimizers.js';
import { Rng } from '../../../models/training/rng.js';
import { PopularitySampler } from '../../../models/training/sampler.js';
import { SessionParallelBatcher } from '../../../models/training/session-batcher.js';

describe('SessionParallelBatcher', () => {
  it('yields every (input, target) pair once, in session order per slot, and flags resets', () => {
    const sessions = [[1, 2, 3], [4], [5, 6], [7, 8, 9, 10], [11, 12]];
    const offsets = new Int32Array(sessions.length + 1);
    sessions.forEach((s, i) => { offsets[i + 1] = offsets[i]! + s.length; });
    const b = new SessionParallelBatcher({ offsets, items: Int32Array.from(sessions.flat()) }, 2);
    expect(b.eventCount).toBe(2 + 0 + 1 + 3 + 1);
    const pairs: string[] = [];
    const lastTarget = new Map<number, number>();
    let resets = 0;
    while (b.step()) {
      for (let r = 0; r < b.batch.size; r++) {
        const slot = b.batch.slots[r]!;
        const input = b.batch.inputs[r]!;
        if (b.batch.reset[r]) resets++;
        // Within a session the input is the previous step's target of the same slot.
        else expect(input).toBe(lastTarget.get(slot));
        lastTarget.set(slot, b.batch.targets[r]!);
        pairs.push(`${input}>${b.batch.targets[r]}`);
      }
    }
    expect(pairs.sort()).toEqual(['1>2', '2>3', '5>6', '7>8', '8>9', '9>10', '11>12'].sort());
    expect(resets).toBe(4);
  });
});

describe('PopularitySampler', () => {
  it('draws ∝ support^alpha and reports log-probabilities', () => {
    const s = new PopularitySampler([100, 25, 1, 0], 0.5);
    const out = new Int32Array(200_000);
    s.sample(new Rng(1), out);
    const counts = [0, 0, 0, 0];
    for (const i of out) counts[i]!++;
    const w = [10, 5, 1, Math.sqrt(0.5)];
    const total = w.reduce((a, b) => a + b, 0);
    w.forEach((wi, i) => expect(counts[i]! / out.length).toBeCloseTo(wi / total, 2));
    expect(Math.exp(s.logProbability[0]!)).toBeCloseTo(10 / total, 6);
  });
});

describe('losses and optimisers', () => {
  it('row accumulator sums duplicate rows; sparse Adagrad touches only given rows', () => {
    const acc = new RowGradientAccumulator(5, 2, 4);
    acc.add(3, Float32Array.from([1, 2]), 0);
    acc.add(1, Float32Array.from([5, 5]), 0);
    acc.add(3, Float32Array.from([10, 20]), 0);
    expect(acc.count).toBe(2);
    expect(Array.from(acc.grad.subarray(0, 4))).toEqual([11, 22, 5, 5]);
    const table = new Float32Array(10).fill(1);
    const p = new OptimizedParameter(table, { ...defaultOptimizerOptions, learningRate: 0.1, momentum: 0.5 });
    p.updateRows(acc.rows, acc.count, acc.grad, 2, 1);
    expect(table[0]).toBe(1);
    expect(table[6]!).toBeLessThan(1);
    expect(table[2]!).toBeLessThan(1);
    expect(table[8]).toBe(1);
    acc.clear();
    expect(acc.count).toBe(0);
  });

  it('early stopping waits `patience` epochs without improvement', () => {
    const e = new EarlyStopping(2);
    expect(e.record(1, 0.1)).toBe(true);
    expect(e.record(2, 0.05)).toBe(false);
    expect(e.shouldStop).toBe(false);
    e.record(3, 0.09);
    expect(e.shouldStop).toBe(true);
    expect(e.bestEpoch).toBe(1);
  });
});
