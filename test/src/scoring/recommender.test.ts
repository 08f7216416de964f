import { describe, expect, it } from 'vitest';
import { Recommender } from '../../../src/scoring/recommender.js';
import { InvalidEventError } from '../../../src/errors.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { SuccessorScorer } from '../../helpers/toy-scorer.js';

describe('Recommender (embedded SDK)', () => {
  it('observe returns the top-k; bad input is a typed error that leaves other sessions intact', async () => {
    const rec = new Recommender(new SuccessorScorer(4), ItemVocabulary.fromIds([10, 11, 12, 13]), { k: 2 });
    const r = await rec.observe({ sessionId: 's', itemId: 11, timestamp: 1 });
    expect(r!.items).toEqual([12, 13]);
    await expect(rec.observe({ sessionId: 's', timestamp: 2 })).rejects.toBeInstanceOf(InvalidEventError);
    expect((await rec.recommend('s', { k: 1, exclude: [12] }))!.items).toEqual([13]);
    await rec.close();
    await rec.close(); // idempotent
    await expect(rec.observe({ sessionId: 's', itemId: 11, timestamp: 3 })).rejects.toThrowError(expect.objectContaining({ code: 'CLOSED' }) as Error);
  });
});
