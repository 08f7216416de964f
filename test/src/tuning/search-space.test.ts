import { describe, expect, it } from 'vitest';
import { checkSearchSpace, describeSearchSpace, paramStrings, sampleParams, trialSeed, type SearchSpace } from '../../../src/tuning/search-space.js';
import { tunableKinds } from '../../../src/cli/tune-spaces.js';

const space: SearchSpace = {
  loss: { type: 'choice', values: ['bpr-max', 'cross-entropy'] },
  lr: { type: 'float', min: 0.001, max: 0.1, log: true },
  dropout: { type: 'float', min: 0, max: 0.5 },
  layers: { type: 'int', min: 32, max: 512, log: true },
  steps: { type: 'int', min: 1, max: 5 },
  bpreg: { type: 'float', min: 0, max: 2, when: (p) => p['loss'] === 'bpr-max' },
};

describe('search space sampling', () => {
  it('draws the same parameters for the same seed and trial, other ones for other trials', () => {
    const a = Array.from({ length: 20 }, (_, t) => sampleParams(space, trialSeed(42, t)));
    const b = Array.from({ length: 20 }, (_, t) => sampleParams(space, trialSeed(42, t)));
    expect(b).toEqual(a);
    expect(new Set(a.map((p) => JSON.stringify(p))).size).toBe(20);
    const other = Array.from({ length: 20 }, (_, t) => sampleParams(space, trialSeed(43, t)));
    expect(other).not.toEqual(a);
  });

  it('keeps every value in its range, with integers for int ranges and a few significant digits for floats', () => {
    for (let t = 0; t < 500; t++) {
      const p = sampleParams(space, trialSeed(7, t));
      expect(['bpr-max', 'cross-entropy']).toContain(p['loss']);
      const lr = p['lr'] as number, dropout = p['dropout'] as number, layers = p['layers'] as number, steps = p['steps'] as number;
      expect(lr).toBeGreaterThanOrEqual(0.001);
      expect(lr).toBeLessThanOrEqual(0.1);
      expect(Number(lr.toPrecision(3))).toBe(lr);
      expect(dropout).toBeGreaterThanOrEqual(0);
      expect(dropout).toBeLessThanOrEqual(0.5);
      expect(Number.isInteger(layers) && layers >= 32 && layers <= 512).toBe(true);
      expect(Number.isInteger(steps) && steps >= 1 && steps <= 5).toBe(true);
    }
  });

  it('samples a log range evenly over its orders of magnitude', () => {
    const lrs = Array.from({ length: 2000 }, (_, t) => sampleParams(space, trialSeed(1, t))['lr'] as number);
    const below01 = lrs.filter((x) => x < 0.01).length / lrs.length;
    // log-uniform over [0.001, 0.1]: half below 0.01 (a plain uniform range would put 9% there).
    expect(below01).toBeGreaterThan(0.4);
    expect(below01).toBeLessThan(0.6);
  });

  it('samples a conditional parameter only when its condition holds, without shifting the others', () => {
    const all = Array.from({ length: 200 }, (_, t) => sampleParams(space, trialSeed(3, t)));
    for (const p of all) expect('bpreg' in p).toBe(p['loss'] === 'bpr-max');
    expect(all.some((p) => p['loss'] === 'bpr-max') && all.some((p) => p['loss'] === 'cross-entropy')).toBe(true);
    const withoutCondition: SearchSpace = { ...space, bpreg: { type: 'float', min: 0, max: 2 } };
    const unconditional = Array.from({ length: 200 }, (_, t) => sampleParams(withoutCondition, trialSeed(3, t)));
    all.forEach((p, t) => expect(p['lr']).toBe(unconditional[t]!['lr']));
  });

  it('turns parameters into --param strings and describes a space', () => {
    expect(paramStrings({ a: 1, b: true, c: 'x' })).toEqual({ a: '1', b: 'true', c: 'x' });
    const lines = describeSearchSpace(space, { bpreg: 'bpr-max only' });
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(/^lr\s+float 0.001..0.1 \(log scale\)$/);
    expect(lines[5]).toContain('(bpr-max only)');
  });

  it('refuses a malformed space, and every shipped space is well formed', () => {
    expect(() => checkSearchSpace({ x: { type: 'float', min: 1, max: 0 } })).toThrow(/min ≤ max/);
    expect(() => checkSearchSpace({ x: { type: 'float', min: 0, max: 1, log: true } })).toThrow(/min must be > 0/);
    expect(() => checkSearchSpace({ x: { type: 'choice', values: [] } })).toThrow(/no choices/);
    for (const t of Object.values(tunableKinds)) expect(() => checkSearchSpace(t.space)).not.toThrow();
  });
});
