import { describe, expect, it } from 'vitest';
import { scoringFromEnv } from '../../../models/scoring/scoring-env.js';

describe('scoringFromEnv', () => {
  it('reads NEXTCLICK_SCORING and NEXTCLICK_ANN_CANDIDATES, undefined when unset', () => {
    expect(scoringFromEnv({})).toBeUndefined();
    expect(scoringFromEnv({ NEXTCLICK_SCORING: 'ann' })).toEqual({ scoring: 'ann' });
    expect(scoringFromEnv({ NEXTCLICK_SCORING: ' auto ', NEXTCLICK_ANN_CANDIDATES: '80' })).toEqual({ scoring: 'auto', candidates: 80 });
  });
  it('rejects unknown values with a message naming the variable', () => {
    expect(() => scoringFromEnv({ NEXTCLICK_SCORING: 'fast' })).toThrow(/NEXTCLICK_SCORING must be/);
    expect(() => scoringFromEnv({ NEXTCLICK_SCORING: 'ann', NEXTCLICK_ANN_CANDIDATES: '0' })).toThrow(/NEXTCLICK_ANN_CANDIDATES/);
  });
});
