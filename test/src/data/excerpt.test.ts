import { describe, expect, it } from 'vitest';
import { looksBinary, printableExcerpt } from '../../../src/data/excerpt.js';

describe('printableExcerpt', () => {
  it('keeps printable text (any script) and cuts it at max characters', () => {
    expect(printableExcerpt('sku-1 Größe 北京')).toBe('sku-1 Größe 北京');
    expect(printableExcerpt('x'.repeat(50), 10)).toBe(`${'x'.repeat(10)}…`);
    expect(printableExcerpt('😀'.repeat(3), 2)).toBe('😀😀…'); // by code point, never a split surrogate
  });

  it('escapes control characters and undecodable bytes', () => {
    expect(printableExcerpt('a\tb\u0000c\u001bd\ufffd')).toBe('a\\tb\\x00c\\x1bd\\ufffd');
  });

  it('escapes every non-ASCII character of binary-looking text', () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0xa9, 0x41]).toString('utf8');
    expect(looksBinary(binary)).toBe(true);
    expect(printableExcerpt(binary)).toBe('\\ufffd\\ufffd\\x00\\xe9A');
    expect(looksBinary('SessionId\tItemId\tTime')).toBe(false);
    expect(looksBinary('')).toBe(false);
  });
});
