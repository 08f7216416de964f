import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCorpus, corpusFromDense, ItemKnn, MostPopular, SequentialRules, trainBaseline, VSKnn, baselineKinds } from '../../../src/baselines/index.js';
import { loadModel } from '../../../src/scoring/model-registry.js';
import type { Scorer } from '../../../src/scoring/scorer.js';
import { newSessionState, type SessionState } from '../../../src/sessions/session-state.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';

const vocab = ItemVocabulary.fromIds(['a', 'b', 'c', 'd', 'e']);
const [A, B, C, D, E] = [0, 1, 2, 3, 4];
const corpus = corpusFromDense([[A, B, C], [A, B], [B, D], [A, C, A]], vocab, [1, 2, 3, 4]);

function session(items: number[]): SessionState {
  const s = newSessionState('k', 0, 0);
  s.items.push(...items);
  return s;
}
// Baselines score synchronously.
const row = (scorer: Scorer, items: number[]) => Array.from(scorer.score([session(items)]) as Float32Array);

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

describe('SequentialRules', () => {
  it('weights rules by 1/gap within the window and normalises by the strongest', () => {
    const sr = SequentialRules.train(corpus, { steps: 2, contextWeight: 0, popularityFallback: false });
    // Rules from a: a→b 1 (s1) + 1 (s2); a→c 1/2 (s1) + 1 (s3, a→c); a→a 1/2 (s3)  ⇒ b 2, c 1.5, a 0.5
    expect(row(sr, [D, A])).toEqual([0.25, 1, 0.75, 0, 0]);
    // d has no rules: all zero
    expect(row(sr, [D])).toEqual([0, 0, 0, 0, 0]);
  });

  it('ranks items without rules by popularity below every rule, with the fallback', () => {
    const sr = SequentialRules.train(corpus, { steps: 2, contextWeight: 0 });
    const r = row(sr, [D]);
    // clicks: a 4, b 3, c 2, d 1, e 0
    expect(r[A]).toBeGreaterThan(r[C]!);
    expect(r[C]).toBeGreaterThan(r[D]!);
    expect(r[E]).toBe(0);
    const withRule = row(sr, [A]);
    expect(Math.min(withRule[A]!, withRule[B]!, withRule[C]!)).toBeGreaterThan(Math.max(withRule[D]!, withRule[E]!));
  });

  it('lets earlier items vote with contextWeight', () => {
    const sr = SequentialRules.train(corpus, { steps: 2, contextWeight: 0.5, popularityFallback: false });
    // last item b: b→c 1, b→d 1 (normalised 1, 1); previous a (d = 1) adds 0.5 × [0.25, 1, 0.75, 0, 0]
    expect(row(sr, [A, B])).toEqual([0.125, 0.5, 1.375, 1, 0]);
  });

  it('can drop self rules', () => {
    const sr = SequentialRules.train(corpus, { steps: 2, selfRules: false, contextWeight: 0, popularityFallback: false });
    expect(row(sr, [A])[A]).toBe(0);
  });
});

describe('ItemKnn', () => {
  it('computes regularised cosine similarity on session co-occurrence', () => {
    const knn = ItemKnn.train(corpus, { lambda: 0, alpha: 0.5 });
    // a in sessions {1,2,4}, b in {1,2,3}, c in {1,4}; co(a,b) = 2, co(a,c) = 2
    const r = row(knn, [A]);
    expect(r[B]).toBeCloseTo(2 / Math.sqrt(3 * 3), 6);
    expect(r[C]).toBeCloseTo(2 / Math.sqrt(3 * 2), 6);
    expect(r[A]).toBe(0);
    expect(r[E]).toBe(0);
    const reg = ItemKnn.train(corpus, { lambda: 10, alpha: 0.5 });
    expect(row(reg, [A])[B]).toBeCloseTo(2 / Math.sqrt(13 * 13), 6);
  });

  it('keeps at most `neighbours` per item', () => {
    const knn = ItemKnn.train(corpus, { neighbours: 1 });
    expect(row(knn, [A]).filter((x) => x > 0)).toHaveLength(1);
  });
});

describe('VSKnn', () => {
  it('scores items of neighbour sessions that share items with the current one', () => {
    const v = VSKnn.train(corpus, { idf: false, weighting: 'same', scoreWeighting: 'same' });
    // current [d]: only session 3 (b, d) shares d → sim 1; b and d score 1
    expect(row(v, [D])).toEqual([0, 1, 0, 1, 0]);
    // current [c]: sessions 1 (a b c) and 4 (a c a) → a counted per occurrence: 1 + 2, b 1, c 2
    expect(row(v, [C])).toEqual([3, 1, 2, 0, 0]);
  });

  it('weights neighbour items by distance from the match', () => {
    const v = VSKnn.train(corpus, { idf: false, weighting: 'same', scoreWeighting: 'div' });
    // current [d]: session 3 = b d, match at position 1; b at distance 1 → 1/2, d → 1
    expect(row(v, [D])).toEqual([0, 0.5, 0, 1, 0]);
  });

  it('samples only the most recent candidate sessions', () => {
    const v = VSKnn.train(corpus, { idf: false, weighting: 'same', scoreWeighting: 'same', sampleSize: 1 });
    // a occurs in sessions 1, 2, 4; the most recent is 4 (a c a)
    expect(row(v, [A])).toEqual([2, 0, 1, 0, 0]);
  });
});

describe('MostPopular', () => {
  it('scores by training clicks, the same for every session', () => {
    const pop = MostPopular.train(corpus);
    expect(row(pop, [E])).toEqual([1, 0.75, 0.5, 0.25, 0]);
  });
});

describe('training from sessions and persistence', () => {
  it('builds a frequency-ordered vocabulary from an async iterable of sessions', async () => {
    const c = await buildCorpus((async function* () {
      yield { items: ['x', 'y', 'y'] };
      yield { items: [7, 'y'], times: [5, 6] };
    })());
    // Most frequent first; ties by the id's string form ('7' < 'x').
    expect(c.vocabulary.toArray()).toEqual(['y', 7, 'x']);
    expect(Array.from(c.offsets)).toEqual([0, 3, 5]);
    expect(Array.from(c.itemCounts)).toEqual([3, 1, 1]);
    expect(Array.from(c.items)).toEqual([2, 0, 0, 1, 0]);
  });

  it.each(baselineKinds)('saves and loads %s with identical scores', async (kind) => {
    const dir = await mkdtemp(join(tmpdir(), `nextclick-${kind}-`));
    dirs.push(dir);
    const model = trainBaseline(kind, corpus);
    await model.save(dir);
    const loaded = await loadModel(dir);
    expect(loaded.manifest.kind).toBe(kind);
    expect(loaded.vocabulary.toArray()).toEqual(vocab.toArray());
    for (const items of [[A], [A, B], [C, A, D]]) expect(row(loaded.scorer, items)).toEqual(row(model, items));
  });

  it('refuses a corrupt data file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nextclick-bad-'));
    dirs.push(dir);
    await trainBaseline('sr', corpus).save(dir);
    await writeFile(join(dir, 'model.bin'), 'garbage');
    await expect(loadModel(dir)).rejects.toMatchObject({ code: 'MODEL_FORMAT' });
  });

  it('types --param values and rejects unknown or invalid ones', () => {
    expect((trainBaseline('sr', corpus, { steps: '3', weighting: 'linear' }) as SequentialRules).options).toMatchObject({ steps: 3, weighting: 'linear' });
    expect(() => trainBaseline('sr', corpus, { stepz: '3' })).toThrow(/unknown parameter "stepz"/);
    expect(() => trainBaseline('vsknn', corpus, { k: 'many' })).toThrow(/must be a number/);
    expect(() => trainBaseline('vsknn', corpus, { weighting: 'cubic' })).toThrow(/weighting must be one of/);
    expect(() => trainBaseline('gru', corpus)).toThrow(/unknown baseline/);
  });

  it('reuses one output buffer and does not change session state', () => {
    const sr = SequentialRules.train(corpus);
    const s = session([A, B]);
    const first = Array.from(sr.score([s]));
    const second = Array.from(sr.score([s, session([C])]).subarray(0, 5));
    expect(second).toEqual(first);
    expect(s.items).toEqual([A, B]);
  });
});
