import { beforeAll, describe, expect, it } from 'vitest';
import { resolveGru4RecConfig } from '../../../models/gru4rec/config.js';
import { Gru4RecParams } from '../../../models/gru4rec/params.js';
import { Gru4RecScorer } from '../../../models/gru4rec/scorer.js';
import { Rng } from '../../../models/training/rng.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { topK } from '../../../src/scoring/top-k.js';
import { newSessionState } from '../../../src/sessions/session-state.js';

const n = 800;
let params: Gru4RecParams;

beforeAll(async () => {
  await selectBackend({ backend: 'wasm', force: true });
  params = new Gru4RecParams(resolveGru4RecConfig({ layers: [24] }), n);
  params.initialize(new Rng(7));
  // Give the output bias some spread so it matters for the ranking.
  params.outputBias.forEach((_, i) => { params.outputBias[i] = ((i * 37) % 11) / 50; });
});

function sessions(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const s = newSessionState(`s${i}`, 0, 0);
    s.items.push((i * 13) % n, (i * 101 + 5) % n, (i * 7 + 1) % n);
    return s;
  });
}

describe('Gru4RecScorer.recommend', () => {
  it.each([undefined, { scoring: 'exact' as const }])('equals score + topK (scoring option %o)', async (scoring) => {
    const scorer = new Gru4RecScorer(params, scoring);
    expect(scorer.scoringMode).toBe('exact');
    const ss = sessions(12);
    await scorer.observe(ss);
    const filters = ss.map((s, b) => (b % 2 ? { exclude: new Set(s.items) } : {}));
    const fast = await scorer.recommend(ss, 20, filters);
    const rows = await scorer.score(ss);
    ss.forEach((_, b) => expect(Array.from(fast[b]!.items)).toEqual(Array.from(topK(rows, 20, filters[b], b * n, n).items)));
    scorer.dispose();
  });

  it('ann: recall@20 ≥ 0.95 against exact scores, and training-time changes to params do not leak in', async () => {
    const scorer = new Gru4RecScorer(params, { scoring: 'ann', candidates: 100 });
    expect(scorer.scoringMode).toBe('ann');
    const ss = sessions(30);
    await scorer.observe(ss);
    const rows = await scorer.score(ss);
    const saved = params.itemTable[0]!;
    params.itemTable[0] = 1e6; // the scorer holds its own copies
    const fast = await scorer.recommend(ss, 20, ss.map(() => ({})));
    params.itemTable[0] = saved;
    let hits = 0;
    ss.forEach((_, b) => {
      const want = new Set(topK(rows, 20, {}, b * n, n).items);
      for (const ix of fast[b]!.items) if (want.has(ix)) hits++;
      fast[b]!.items.forEach((ix, q) => expect(fast[b]!.scores[q]).toBeCloseTo(rows[b * n + ix]!, 4));
    });
    expect(hits / (30 * 20)).toBeGreaterThanOrEqual(0.95);
    scorer.dispose();
  });
});
