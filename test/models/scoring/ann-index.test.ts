import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnnIndex } from '../../../models/scoring/ann-index.js';
import { Prng } from '../../../src/synthetic/index.js';

function table(n: number, d: number, seed: number) {
  const rng = new Prng(seed);
  const vectors = Float32Array.from({ length: n * d }, () => rng.next() * 2 - 1);
  const bias = Float32Array.from({ length: n }, () => rng.next() - 0.5);
  return { vectors, bias, itemCount: n, dims: d };
}

function exactTop(t: ReturnType<typeof table>, h: Float32Array, k: number): number[] {
  const scores = Array.from({ length: t.itemCount }, (_, i) => {
    let s = t.bias[i]!;
    for (let j = 0; j < t.dims; j++) s += h[j]! * t.vectors[i * t.dims + j]!;
    return { i, s };
  });
  return scores.sort((a, b) => b.s - a.s).slice(0, k).map((x) => x.i);
}

describe('AnnIndex (pure TypeScript HNSW)', () => {
  const t = table(400, 12, 3);
  const queries = table(16, 12, 4).vectors;

  it('reaches every item: asked for all of them, it returns each once, best first as the exact order', () => {
    const ann = AnnIndex.build(t);
    const got = ann.search(queries, 16, 400);
    for (let b = 0; b < 16; b++) {
      const row = Array.from(got.subarray(b * 400, (b + 1) * 400));
      expect(new Set(row).size).toBe(400);
      expect(row.slice(0, 20)).toEqual(exactTop(t, queries.subarray(b * 12, (b + 1) * 12), 20));
    }
  });

  it('builds the same graph every time and round-trips it through a file', async () => {
    const a = AnnIndex.build(t, { expansionAdd: 20 });
    const b = AnnIndex.build(t, { expansionAdd: 20 });
    expect(Array.from(b.search(queries, 16, 10))).toEqual(Array.from(a.search(queries, 16, 10)));
    const file = join(await mkdtemp(join(tmpdir(), 'ann-index-')), 'items.hnsw');
    a.save(file);
    const loaded = AnnIndex.build(t, { expansionAdd: 20 }, file);
    expect(Array.from(loaded.search(queries, 16, 10))).toEqual(Array.from(a.search(queries, 16, 10)));
  });

  it('rejects a graph file of another table, another format or cut short, with what to do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ann-index-'));
    const file = join(dir, 'items.hnsw');
    AnnIndex.build(t).save(file);
    expect(() => AnnIndex.build(table(300, 12, 3), {}, file)).toThrow(/holds 400 items but the model has 300; delete the file to rebuild it/);
    expect(() => AnnIndex.build(table(400, 8, 3), {}, file)).toThrow(/built for dims 12/);
    const bytes = await readFile(file);
    await writeFile(join(dir, 'short.hnsw'), bytes.subarray(0, bytes.length - 8));
    expect(() => AnnIndex.build(t, {}, join(dir, 'short.hnsw'))).toThrow(/truncated/);
    await writeFile(join(dir, 'other.hnsw'), 'not a graph at all');
    expect(() => AnnIndex.build(t, {}, join(dir, 'other.hnsw'))).toThrow(/not a nextclick HNSW graph/);
  });

  it('answers -1 past the catalogue and nothing for an empty one', () => {
    const small = table(5, 4, 9);
    const got = AnnIndex.build(small).search(new Float32Array(4).fill(1), 1, 8);
    expect(Array.from(got.subarray(5))).toEqual([-1, -1, -1]);
    expect(new Set(Array.from(got.subarray(0, 5)))).toEqual(new Set([0, 1, 2, 3, 4]));
    expect(Array.from(AnnIndex.build(table(0, 4, 1)).search(new Float32Array(4), 1, 3))).toEqual([-1, -1, -1]);
  });
});
