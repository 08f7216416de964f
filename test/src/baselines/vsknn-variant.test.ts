import { describe, expect, it } from 'vitest';
import { corpusFromDense, trainBaseline, VSKnn } from '../../../src/baselines/index.js';
import type { ClickEvent } from '../../../src/events/click-event.js';
import { evaluateReplay } from '../../../src/eval/replay-evaluator.js';
import { newSessionState } from '../../../src/sessions/session-state.js';
import { Prng } from '../../../src/synthetic/index.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';

const vocab = ItemVocabulary.fromIds(['a', 'b', 'c', 'x', 'y']);
const [A, B, C, X, Y] = [0, 1, 2, 3, 4];
// Oldest to newest: one neighbour clicks b again and again, two others go on to c once.
const corpus = corpusFromDense([[A, B, B, B, B], [A, C], [A, C], [X, Y]], vocab, [1, 2, 3, 4]);
const row = (v: VSKnn, items: number[]) => {
  const s = newSessionState('k', 0, 0);
  s.items.push(...items);
  return Array.from(v.score([s]));
};

describe('V-SKNN variants', () => {
  it('session-rec gives every distinct neighbour item one weight; nextclick counts each occurrence', () => {
    const reference = VSKnn.train(corpus, { variant: 'session-rec', idf: false });
    const own = VSKnn.train(corpus, { idf: false });
    // Current [a]: three neighbours with similarity 1, newest shared item at distance 0 (weight 1).
    // session-rec: a 3, b 1 (once, however often the neighbour clicked it), c 2.
    expect(row(reference, [A])).toEqual([3, 1, 2, 0, 0]);
    // nextclick: b at distances 1..4 from the match (1/2 + 1/3 + 1/4 + 1/5), c at distance 1 twice (1/2 + 1/2).
    const r = row(own, [A]);
    expect(r[B]).toBeCloseTo(1 / 2 + 1 / 3 + 1 / 4 + 1 / 5, 6);
    expect(r[C]).toBeCloseTo(1, 6);
    // So the two variants rank the repeat-heavy neighbour's item differently.
    expect(r[B]! > r[C]!).toBe(true);
  });

  it('session-rec decays the current session linearly over its length and the scores by the newest shared item', () => {
    const reference = VSKnn.train(corpus, { variant: 'session-rec', idf: false, scoreWeighting: 'div' });
    // Current [y, c, b] (L = 3): weights y 1/3, c 2/3, b 1.
    // Neighbour 1 (a b): shares b (d 0) → sim 1, decay 1 → a 1, b 1.
    // Neighbours 2, 3 (a c): share c (d 1) → sim 2/3, decay 1/2 → a, c += 1/3 each.
    // Neighbour 4 (x y): shares y (d 2) → sim 1/3, decay 1/3 → x, y += 1/9.
    const r = row(reference, [Y, C, B]);
    expect(r[A]).toBeCloseTo(1 + 2 / 3, 6);
    expect(r[B]).toBeCloseTo(1, 6);
    expect(r[C]).toBeCloseTo(2 / 3, 6);
    expect(r[X]).toBeCloseTo(1 / 9, 6);
    expect(r[Y]).toBeCloseTo(1 / 9, 6);
  });

  it('session-rec with idf weights each scored item by 1 + idf', () => {
    const reference = VSKnn.train(corpus, { variant: 'session-rec', idf: true });
    const idf = (sessionsWith: number) => Math.log(4 / sessionsWith);
    const r = row(reference, [A]);
    expect(r[B]).toBeCloseTo(1 + idf(1), 5);
    expect(r[C]).toBeCloseTo(2 * (1 + idf(2)), 5);
  });

  it('differ in accuracy on a repeat-heavy log and match where nothing repeats', async () => {
    // Sessions pick 3 items of a 40-item catalogue and click among them again and again.
    const rng = new Prng(5);
    const sessions: number[][] = [];
    for (let s = 0; s < 600; s++) {
      const base = rng.int(40);
      const picks = [base, (base + 1 + rng.int(3)) % 40, (base + 4 + rng.int(3)) % 40];
      const len = 4 + rng.int(8);
      sessions.push(Array.from({ length: len }, (_, i) => (i === 0 ? picks[0]! : picks[rng.int(3)]!)));
    }
    const ids = Array.from({ length: 40 }, (_, i) => `i${i}`);
    const v = ItemVocabulary.fromIds(ids);
    const train = corpusFromDense(sessions.slice(0, 500), v, sessions.slice(0, 500).map((_, i) => i));
    const events: ClickEvent[] = sessions.slice(500).flatMap((s, j) => s.map((item, t) => ({ sessionId: `t${j}`, itemId: ids[item]!, timestamp: 1e12 + j * 1e6 + t * 1000 })));
    const own = await evaluateReplay(trainBaseline('vsknn', train), v, events, { cutoffs: [1, 3] });
    const ref = await evaluateReplay(trainBaseline('vsknn', train, { variant: 'session-rec' }), v, events, { cutoffs: [1, 3] });
    expect(own.repeatShare).toBeGreaterThan(0.7);
    // HR@3 0.768 (nextclick) vs 0.714 (session-rec) with this seed.
    expect(Math.abs(own.cutoffs[1]!.hitRate - ref.cutoffs[1]!.hitRate)).toBeGreaterThan(0.02);

    // Without repeats anywhere (every session distinct items, each neighbour a set already), on a one-item
    // current session both variants weight the session alike and agree on the ranking of neighbour items' sets.
    const plain = corpusFromDense([[A, B], [A, C], [A, C], [X, Y]], vocab, [1, 2, 3, 4]);
    const a = row(VSKnn.train(plain, { idf: false, scoreWeighting: 'same' }), [A]);
    const b = row(VSKnn.train(plain, { variant: 'session-rec', idf: false, scoreWeighting: 'same' }), [A]);
    expect(a).toEqual(b);
  });

  it('validates the variant and keeps it through save and load', async () => {
    expect(() => trainBaseline('vsknn', corpus, { variant: 'papers' })).toThrow(/variant must be one of nextclick, session-rec/);
    const v = trainBaseline('vsknn', corpus, { variant: 'session-rec' }) as VSKnn;
    expect(v.options.variant).toBe('session-rec');
    expect(v.config()['variant']).toBe('session-rec');
  });
});
