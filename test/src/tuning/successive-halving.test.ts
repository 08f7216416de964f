import { describe, expect, it } from 'vitest';
import { rungEpochs, SuccessiveHalving } from '../../../src/tuning/successive-halving.js';

describe('rungEpochs', () => {
  it('puts rungs at min·eta^i below the last epoch', () => {
    expect(rungEpochs(10, 3)).toEqual([1, 3, 9]);
    expect(rungEpochs(9, 3)).toEqual([1, 3]);
    expect(rungEpochs(20, 2)).toEqual([1, 2, 4, 8, 16]);
    expect(rungEpochs(1, 3)).toEqual([]);
    expect(rungEpochs(10, 3, 2)).toEqual([2, 6]);
    expect(() => rungEpochs(0, 3)).toThrow(/≥ 1/);
    expect(() => rungEpochs(10, 1)).toThrow(/eta/);
  });
});

/** Records `value` for `trial` at `epoch` and returns the verdict. */
function report(s: SuccessiveHalving, trial: number, epoch: number, value: number, group = 'g') {
  s.record(group, trial, epoch, value);
  return s.decide(group, trial, epoch);
}

describe('SuccessiveHalving', () => {
  it('keeps the best ⌈n/η⌉ trials at a rung and lets every trial through off the rungs', () => {
    const s = new SuccessiveHalving({ eta: 3, rungs: [1, 3], ordered: false });
    for (const t of [0, 1, 2, 3, 4, 5]) s.start('g', t);
    expect(report(s, 0, 1, 0.5)).toBe('continue'); // alone: n = 1, keeps 1
    expect(report(s, 1, 1, 0.4)).toBe('stop'); // n = 2 keeps 1: 0.5 is better
    expect(report(s, 2, 1, 0.6)).toBe('continue'); // the best so far
    expect(report(s, 3, 1, 0.55)).toBe('continue'); // n = 4 keeps 2: second best
    expect(report(s, 4, 1, 0.45)).toBe('stop'); // n = 5 keeps 2: fourth
    expect(report(s, 5, 1, 0.6)).toBe('continue'); // ties count in the trial's favour
    expect(report(s, 0, 2, 0.01)).toBe('continue'); // epoch 2 is no rung
  });

  it('never stops the exempt trial (the defaults), but counts its values', () => {
    const s = new SuccessiveHalving({ eta: 3, rungs: [1], ordered: false });
    s.start('g', 0);
    s.start('g', 1, true);
    expect(report(s, 0, 1, 0.9)).toBe('continue');
    expect(report(s, 1, 1, 0.1)).toBe('continue');
    s.start('g', 2);
    expect(report(s, 2, 1, 0.5)).toBe('stop'); // behind 0.9 of trial 0; n = 3 keeps 1
  });

  it('compares trials only within their group', () => {
    const s = new SuccessiveHalving({ eta: 2, rungs: [1], ordered: false });
    s.start('a', 0);
    s.start('b', 1);
    expect(report(s, 0, 1, 0.9, 'a')).toBe('continue');
    expect(report(s, 1, 1, 0.1, 'b')).toBe('continue');
  });

  it('in ordered mode waits for lower-numbered trials and ignores higher-numbered ones', () => {
    const s = new SuccessiveHalving({ eta: 3, rungs: [1], ordered: true });
    s.start('g', 0);
    s.start('g', 1);
    s.start('g', 2);
    // Trial 2 reports first: it must wait for 0 and 1, whatever it scored.
    expect(report(s, 2, 1, 0.3)).toBe('wait');
    expect(report(s, 1, 1, 0.9)).toBe('wait'); // waits for trial 0
    expect(report(s, 0, 1, 0.5)).toBe('continue'); // compared with nobody below it
    expect(s.decide('g', 1, 1)).toBe('continue'); // n = 2 (0 and 1), keeps 1: 0.9 is best
    // Trial 2 is compared with 0 and 1 only: n = 3 keeps 1, and 0.3 is last.
    expect(s.decide('g', 2, 1)).toBe('stop');
  });

  it('in ordered mode stops waiting for a trial that ended before the rung', () => {
    const s = new SuccessiveHalving({ eta: 3, rungs: [3], ordered: true });
    s.start('g', 0);
    s.start('g', 1);
    s.record('g', 0, 1, 0.2);
    s.record('g', 1, 1, 0.1);
    s.record('g', 1, 2, 0.1);
    s.record('g', 1, 3, 0.1);
    expect(s.decide('g', 1, 3)).toBe('wait');
    s.end('g', 0); // trial 0 stopped at epoch 1 (its own early stopping): it never reaches rung 3
    expect(s.decide('g', 1, 3)).toBe('continue');
  });

  it('gives the same verdicts in ordered mode whatever order the reports arrive in', () => {
    const values = [0.31, 0.42, 0.27, 0.5, 0.33, 0.45, 0.2, 0.38];
    const verdicts = (order: number[]) => {
      const s = new SuccessiveHalving({ eta: 3, rungs: [1], ordered: true });
      values.forEach((_, t) => s.start('g', t));
      for (const t of order) s.record('g', t, 1, values[t]!);
      return values.map((_, t) => s.decide('g', t, 1));
    };
    const inOrder = verdicts([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(inOrder).not.toContain('wait');
    expect(verdicts([7, 3, 5, 1, 0, 6, 2, 4])).toEqual(inOrder);
    expect(inOrder).toEqual(['continue', 'continue', 'stop', 'continue', 'stop', 'continue', 'stop', 'stop']);
  });
});
