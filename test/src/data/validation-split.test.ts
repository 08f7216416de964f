import { describe, expect, it } from 'vitest';
import { splitValidation } from '../../../src/data/validation-split.js';

// Sessions of lengths 3, 1, 4, 2, 5 (predictions 2, 0, 3, 1, 4), in time order.
const lengths = [3, 1, 4, 2, 5];
const offsets = Int32Array.from([0, ...lengths.map((_, i) => lengths.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
const log = { offsets, items: Int32Array.from({ length: offsets[offsets.length - 1]! }, (_, i) => i) };
const sessions = (r: { offsets: Int32Array }) => r.offsets.length - 1;

describe('splitValidation', () => {
  it('holds out the newest sessions, at most the fraction', () => {
    const { train, validation } = splitValidation(log, 0.4);
    expect(sessions(train)).toBe(3);
    expect(Array.from(validation!.items)).toEqual(Array.from(log.items.subarray(offsets[3]!)));
    expect(Array.from(validation!.offsets)).toEqual([0, 2, 7]);
  });

  it('holds out no more of the newest sessions than validation scores (maxPredictions); the rest is trained on', () => {
    // The newest session alone holds 4 predictions: with at most 4 scored, the second newest goes back to training.
    const { train, validation } = splitValidation(log, 0.4, 4);
    expect(sessions(train)).toBe(4);
    expect(sessions(validation!)).toBe(1);
    expect(Array.from(validation!.items)).toEqual(Array.from(log.items.subarray(offsets[4]!)));
    // 5 predictions need two sessions (4 + 1); the fraction still caps it.
    expect(sessions(splitValidation(log, 0.4, 5).validation!)).toBe(2);
    expect(sessions(splitValidation(log, 0.2, 100).validation!)).toBe(1);
  });

  it('holds out nothing for fraction 0 or a log too small to split', () => {
    expect(splitValidation(log, 0).validation).toBeUndefined();
    expect(splitValidation({ offsets: Int32Array.from([0, 3]), items: Int32Array.from([1, 2, 3]) }, 0.5).validation).toBeUndefined();
  });
});
