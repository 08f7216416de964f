import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ItemScoringTable } from '../../../models/scoring/item-scoring-table.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { scoreItem, type DenseItemTable } from '../../../src/scoring/dense-top-k.js';
import { topK } from '../../../src/scoring/top-k.js';

// Clustered embeddings (like trained item tables), fixed seed.
function clustered(n: number, d: number, seed: number): DenseItemTable {
  let x = seed >>> 0;
  const rnd = () => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x / 2 ** 32 - 0.5; };
  const centers = Float32Array.from({ length: 20 * d }, rnd);
  const v = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) v[i * d + t] = 2 * centers[(i % 20) * d + t]! + 0.5 * rnd();
  return { vectors: v, bias: Float32Array.from({ length: n }, () => 0.3 * rnd()), itemCount: n, dims: d };
}

function exact(t: DenseItemTable, hidden: Float32Array, b: number, k: number, filter = {}) {
  const row = Float32Array.from({ length: t.itemCount }, (_, j) => scoreItem(t, hidden, b * t.dims, j));
  return topK(row, k, filter);
}

const d = 16;
const t = clustered(3000, d, 5);
const batch = 40;
const hidden = Float32Array.from({ length: batch * d }, (_, i) => Math.sin(i * 1.7) + Math.cos(i * 0.3));
let dir: string;

beforeAll(async () => {
  await selectBackend({ backend: 'wasm', force: true });
  dir = await mkdtemp(join(tmpdir(), 'scoring-table-'));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('ItemScoringTable', () => {
  it.each(['tfjs', 'loop'] as const)('exact (%s) equals brute-force top-k with per-row filters', (path) => {
    const table = new ItemScoringTable(t, { scoring: 'exact', exact: path });
    const filters = Array.from({ length: batch }, (_, b) => (b % 3 === 0 ? { exclude: [b, b + 1] } : b % 3 === 1 ? { allow: new Set([1, 2, 3, 2999]) } : undefined));
    const got = table.scoreTopK(hidden, batch, 20, filters);
    for (let b = 0; b < batch; b++) {
      const want = exact(t, hidden, b, 20, filters[b]);
      expect(Array.from(got[b]!.items)).toEqual(Array.from(want.items));
      expect(Array.from(got[b]!.scores, (s) => s.toFixed(3))).toEqual(Array.from(want.scores, (s) => s.toFixed(3)));
    }
    table.dispose();
  });

  it('exact scores and top-k of a table larger than one wasm block (4,096 items) match brute force, bias included', () => {
    const big = clustered(9000, 8, 11);
    const q = Float32Array.from({ length: 5 * 8 }, (_, i) => Math.cos(i * 0.9));
    const table = new ItemScoringTable(big, { scoring: 'exact' });
    const scores = table.scoreAll(q, 5);
    expect(scores.length).toBe(5 * 9000);
    for (const [b, j] of [[0, 0], [1, 4095], [2, 4096], [3, 8191], [4, 8999]] as const) expect(scores[b * 9000 + j]).toBeCloseTo(scoreItem(big, q, b * 8, j), 4);
    const got = table.scoreTopK(q, 5, 20, { exclude: [4096] });
    for (let b = 0; b < 5; b++) expect(Array.from(got[b]!.items)).toEqual(Array.from(exact(big, q, b, 20, { exclude: [4096] }).items));
    table.dispose();
  });

  it('ann: recall@20 vs exact ≥ 0.98 on clustered embeddings, with exact scores for what it returns', () => {
    const minRecall = 0.98;
    const table = new ItemScoringTable(t, { scoring: 'ann', candidates: 100 });
    expect(table.mode).toBe('ann');
    const got = table.scoreTopK(hidden, batch, 20);
    let hits = 0;
    for (let b = 0; b < batch; b++) {
      const want = new Set(exact(t, hidden, b, 20).items);
      for (const ix of got[b]!.items) if (want.has(ix)) hits++;
      got[b]!.items.forEach((ix, q) => expect(got[b]!.scores[q]).toBeCloseTo(scoreItem(t, hidden, b * d, ix), 4));
    }
    expect(hits / (batch * 20)).toBeGreaterThanOrEqual(minRecall);
    table.dispose();
  });

  it('ann falls back to exact for allow lists and for filters that exclude the candidates', () => {
    const table = new ItemScoringTable(t, { scoring: 'ann', candidates: 30 });
    const first = table.scoreTopK(hidden, 1, 30)[0]!;
    const filters = [{ allow: new Set([10, 20, 30]) }, { exclude: first.items }];
    // The same query twice: the second row's filter removes all 30 of its candidates.
    const twice = new Float32Array(2 * d);
    twice.set(hidden.subarray(0, d)); twice.set(hidden.subarray(0, d), d);
    const got = table.scoreTopK(twice, 2, 5, filters);
    expect(Array.from(got[0]!.items)).toEqual(Array.from(exact(t, twice, 0, 5, filters[0]).items));
    const want = exact(t, twice, 1, 5, { exclude: Array.from(first.items) });
    expect(got[1]!.items.length).toBe(5);
    expect(Array.from(got[1]!.items)).toEqual(Array.from(want.items));
    table.dispose();
  });

  it('auto picks ann from annMinItems up; the index persists to indexFile and reloads with the same answers', () => {
    expect(new ItemScoringTable(t, { scoring: 'auto', annMinItems: 5000 }).mode).toBe('exact');
    const file = join(dir, 'items.hnsw');
    const a = new ItemScoringTable(t, { scoring: 'auto', annMinItems: 1000, indexFile: file });
    expect(a.mode).toBe('ann');
    expect(existsSync(file)).toBe(true);
    const b = new ItemScoringTable(t, { scoring: 'ann', indexFile: file });
    const ra = a.scoreTopK(hidden, batch, 20), rb = b.scoreTopK(hidden, batch, 20);
    expect(rb.map((r) => Array.from(r.items))).toEqual(ra.map((r) => Array.from(r.items)));
    const other = clustered(10, d, 1);
    expect(() => new ItemScoringTable(other, { scoring: 'ann', indexFile: file })).toThrow(/holds 3000 items/);
  });

  it('rejects bad options and mismatched tables', () => {
    expect(() => new ItemScoringTable(t, { scoring: 'fast' as never })).toThrow(/scoring must be/);
    expect(() => new ItemScoringTable(t, { candidates: 0 })).toThrow(/candidates/);
    expect(() => new ItemScoringTable({ ...t, dims: 15 })).toThrow(/itemCount × dims/);
  });
});
