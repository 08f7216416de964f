import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinDelimited, splitDelimited } from '../../../src/data/index.js';

describe('splitDelimited / joinDelimited', () => {
  it('round-trips any fields without newlines', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '\t', ';', '"', ' ', 'é', '1') });
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 6 }), fc.constantFrom(',', '\t', ';', '::'), (fields, d) => {
        expect(splitDelimited(joinDelimited(fields, d), d)).toEqual(fields);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('reads quoted fields and rejects broken quoting', () => {
    expect(splitDelimited('"a,b",c,"",d"e', ',')).toEqual(['a,b', 'c', '', 'd"e']);
    expect(splitDelimited('a,"b"', ',')).toEqual(['a', 'b']);
    expect(splitDelimited('"a",', ',')).toEqual(['a', '']);
    expect(() => splitDelimited('"abc', ',')).toThrow(/unterminated/);
    expect(() => splitDelimited('"a"b,c', ',')).toThrow(/after closing quote/);
  });
});
