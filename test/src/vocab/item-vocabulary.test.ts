import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ItemVocabulary, OOV } from '../../../src/vocab/item-vocabulary.js';
import { ModelFormatError, NextclickError } from '../../../src/errors.js';

describe('ItemVocabulary', () => {
  it('maps ids to dense indices in order of appearance; string and number forms are one item', () => {
    const v = ItemVocabulary.fromIds(['a', 42, 'b', '42']);
    expect(v.size).toBe(3);
    expect(v.indexOf('42')).toBe(1);
    expect(v.idOf(1)).toBe(42);
  });
  it('applies min support and orders by frequency with deterministic ties', () => {
    const v = ItemVocabulary.fromCounts(new Map<string | number, number>([['x', 2], ['y', 9], ['z', 2], ['w', 1]]), 2);
    expect(v.toArray()).toEqual(['y', 'x', 'z']);
  });
  it('handles out-of-vocabulary ids by policy', () => {
    const v = ItemVocabulary.fromIds([1, 2]);
    expect(v.indexOf(3)).toBe(OOV);
    expect(() => v.indexOf(3, 'error')).toThrowError(expect.objectContaining({ code: 'UNKNOWN_ITEM' }) as Error);
    expect(v.indexOf(3, 'grow')).toBe(2);
    expect(v.indexOf(1)).toBe(0); // growth never moves old items
  });
  it('rejects out-of-range indices with a typed error', () => {
    expect(() => ItemVocabulary.fromIds([1]).idOf(5)).toThrow(NextclickError);
  });
  it('saves and loads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vocab-'));
    const v = ItemVocabulary.fromIds(['a', 7, 'c']);
    await v.save(join(dir, 'v.json'));
    const back = await ItemVocabulary.load(join(dir, 'v.json'));
    expect(back.toArray()).toEqual(['a', 7, 'c']);
  });
  it('gives ids back in the type the caller uses (idLike), and files keep each id\'s type', async () => {
    const v = ItemVocabulary.fromIds([214821275, 'sku-1', '42', '007']);
    expect([0, 1, 2, 3].map((i) => v.idLike(i, 'x'))).toEqual(['214821275', 'sku-1', '42', '007']);
    expect([0, 1, 2, 3].map((i) => v.idLike(i, 1))).toEqual([214821275, 'sku-1', 42, '007']); // '007' has no canonical number form
    v.add(5); // ids added after the first typed read are converted too
    expect([v.idLike(4, 'x'), v.idLike(4, 1), v.idOf(4)]).toEqual(['5', 5, 5]);
    const dir = await mkdtemp(join(tmpdir(), 'vocab-'));
    await v.save(join(dir, 'v.json'));
    const back = await ItemVocabulary.load(join(dir, 'v.json'));
    expect(back.toArray()).toEqual([214821275, 'sku-1', '42', '007', 5]);
    // A vocabulary file written before idLike existed (same format) loads the same way.
    await writeFile(join(dir, 'old.json'), '{"format":"nextclick.vocabulary","version":1,"items":[10,"a"]}');
    const old = await ItemVocabulary.load(join(dir, 'old.json'));
    expect([old.idLike(0, 'x'), old.idLike(1, 2)]).toEqual(['10', 'a']);
  });

  it('refuses corrupt files with clear errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vocab-'));
    await writeFile(join(dir, 'bad.json'), '{"format":"nextclick.vocabulary","version":1,"items":["a","a"]}');
    await expect(ItemVocabulary.load(join(dir, 'bad.json'))).rejects.toThrow(/twice/);
    await writeFile(join(dir, 'nojson.json'), 'nope');
    await expect(ItemVocabulary.load(join(dir, 'nojson.json'))).rejects.toBeInstanceOf(ModelFormatError);
    await expect(ItemVocabulary.load(join(dir, 'missing.json'))).rejects.toThrowError(expect.objectContaining({ code: 'FILE_NOT_FOUND' }) as Error);
  });
});
