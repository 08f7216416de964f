import { describe, expect, it } from 'vitest';
import { dotKernel } from '../../../models/scoring/dot-kernel.js';
import { Prng } from '../../../src/synthetic/index.js';

/** Fills a kernel's memory: a query at 0, `rows` rows of `width` floats from `base`, ids and room for the output. */
function fill(simd: boolean, width: number, rows: number, ids: readonly number[], seed: number) {
  const stride = width * 4, base = stride, idsAt = base + rows * stride, out = idsAt + ids.length * 4;
  const k = dotKernel(out + ids.length * 4, { simd });
  const f32 = new Float32Array(k.buffer), i32 = new Int32Array(k.buffer);
  const rng = new Prng(seed);
  for (let t = 0; t < width + rows * width; t++) f32[t] = rng.next() * 2 - 1;
  i32.set(ids, idsAt >> 2);
  k.dots(0, base, idsAt, ids.length, stride, out);
  return { kind: k.kind, got: Array.from(f32.subarray(out >> 2, (out >> 2) + ids.length)), f32 };
}

describe('dotKernel', () => {
  const width = 28, rows = 50;
  const ids = [7, 0, 49, 7, 13, 31, 2];

  it('computes the negated inner product of the query with each listed row', () => {
    const { got, f32 } = fill(true, width, rows, ids, 5);
    const want = ids.map((r) => {
      let s = 0;
      for (let t = 0; t < width; t++) s += f32[t]! * f32[width + r * width + t]!;
      return -s;
    });
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 5));
  });

  it('gives the same bits on WebAssembly SIMD and in its JavaScript fallback (so both build the same graph)', () => {
    const simd = fill(true, width, rows, ids, 9);
    const js = fill(false, width, rows, ids, 9);
    expect(simd.kind).toBe('simd'); // Node ≥ 16 has WebAssembly SIMD
    expect(js.kind).toBe('js');
    expect(simd.got).toEqual(js.got);
  });

  it('scores nothing when the list is empty', () => {
    expect(fill(true, width, rows, [], 1).got).toEqual([]);
  });
});
