import { describe, expect, it } from 'vitest';
import { formatDuration, parseDurationSeconds } from '../../../src/tuning/budget.js';

describe('parseDurationSeconds', () => {
  it('reads seconds and durations', () => {
    expect(parseDurationSeconds('120')).toBe(120);
    expect(parseDurationSeconds('2.5')).toBe(2.5);
    expect(parseDurationSeconds('30m')).toBe(1800);
    expect(parseDurationSeconds('1h')).toBe(3600);
    expect(parseDurationSeconds('1h30m')).toBe(5400);
    expect(parseDurationSeconds('45s')).toBe(45);
    expect(parseDurationSeconds(' 2M ')).toBe(120);
  });

  it('refuses anything else with an error naming the option', () => {
    for (const bad of ['', 'ten', '10x', '-5', '0', '0m', '1m1m', 'm', '1d']) {
      expect(() => parseDurationSeconds(bad), bad).toThrow(/--budget/);
    }
  });

  it('formats a duration for progress lines', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3725)).toBe('1h02m');
    expect(formatDuration(-3)).toBe('0s');
  });
});
