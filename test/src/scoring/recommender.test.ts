import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import '../../../src/baselines/index.js';
import { captureIo } from '../../helpers/capture-io.js';
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

  it('item ids keep their type: a string in, strings out; a number in, numbers out', async () => {
    const rec = new Recommender(new SuccessorScorer(4), ItemVocabulary.fromIds([214821275, 214821276, 'sku-3', '214821278']), { k: 3, excludeSeen: false });
    expect((await rec.observe({ sessionId: 'a', itemId: '214821275', timestamp: 1 }))!.items).toEqual(['214821276', 'sku-3', '214821278']);
    expect((await rec.recommend('a', { k: 2 }))!.items).toEqual(['214821276', 'sku-3']);
    expect((await rec.observe({ sessionId: 'b', itemId: 214821275, timestamp: 1 }))!.items).toEqual([214821276, 'sku-3', 214821278]);
    expect((await rec.recommend('b', { k: 1 }))!.items).toEqual([214821276]);
    await rec.close();
  });

  it('through a trained and saved model directory: numeric-looking ids read from a TSV come back as strings to a string caller', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nextclick-ids-'));
    try {
      await writeFile(join(dir, 'train.tsv'), ['SessionId\tItemId\tTime', '1\t214821275\t1', '1\t214821276\t2', '2\t214821275\t3', '2\t214821276\t4', '3\tsku-9\t5', '3\t214821276\t6'].join('\n') + '\n');
      const c = captureIo();
      expect(await main(['train', '--train', join(dir, 'train.tsv'), '--model', 'sr', '--out', join(dir, 'm')], c.io)).toBe(0);
      const rec = await Recommender.load(join(dir, 'm'), { k: 1 });
      expect((await rec.observe({ sessionId: 's', itemId: '214821275', timestamp: 1 }))!.items).toEqual(['214821276']);
      expect((await rec.observe({ sessionId: 't', itemId: 214821275, timestamp: 1 }))!.items).toEqual([214821276]);
      expect((await rec.observe({ sessionId: 'u', itemId: 'sku-9', timestamp: 1 }))!.items).toEqual(['214821276']);
      await rec.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
