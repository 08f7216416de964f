import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { newSessionState } from '../../../src/sessions/session-state.js';
import { Rng } from '../../../models/training/rng.js';
import { TransformerScorer } from '../../../models/transformer/scorer.js';
import { trainTransformer } from '../../../models/transformer/train.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

const ITEMS = 60;

/** Share of items i whose one-click session ranks the successor i+1 above the predecessor i−1. */
async function successorWins(sessionMap: boolean): Promise<number> {
  const rng = new Rng(8);
  const vocabulary = ItemVocabulary.fromIds(Array.from({ length: ITEMS }, (_, i) => `i${i}`));
  // A directed ring: every session is a click on i followed by one on i+1.
  const sessions = Array.from({ length: 3000 }, () => { const i = rng.int(ITEMS); return [i, (i + 1) % ITEMS]; });
  const offsets = Int32Array.from({ length: sessions.length + 1 }, (_, k) => 2 * k);
  const data = { offsets, items: Int32Array.from(sessions.flat()), vocabulary };
  const r = await trainTransformer(data, { config: { sessionMap, hiddenSize: 16, heads: 2, feedForwardSize: 16, maxLength: 4, nSample: 32, batchSize: 64, epochs: 3, learningRate: 0.01, dropoutEmbedding: 0, dropoutHidden: 0, validationFraction: 0, seed: 3 } });
  const scorer = new TransformerScorer(r.params);
  const states = Array.from({ length: ITEMS }, (_, i) => { const s = newSessionState(`s${i}`, 0, 0); s.items.push(i); return s; });
  await scorer.observe(states);
  const scores = await scorer.score(states);
  scorer.dispose();
  let wins = 0;
  for (let i = 0; i < ITEMS; i++) if (scores[i * ITEMS + ((i + 1) % ITEMS)]! > scores[i * ITEMS + ((i + ITEMS - 1) % ITEMS)]!) wins++;
  return wins / ITEMS;
}

describe('transformer session map', () => {
  beforeAll(async () => { await selectBackend({ backend: 'wasm' }); });

  it('learns a directed transition that plain cosine scoring of one item cannot tell from its reverse', async () => {
    // Without the map a one-item session scores cos(e_i, e_j) + b_j, the same for i → j and j → i (the
    // biases are equal here: every item is as frequent).
    const withMap = await successorWins(true), without = await successorWins(false);
    expect(withMap).toBeGreaterThan(0.9);
    expect(without).toBeLessThan(0.8);
  }, HEAVY_TEST_TIMEOUT_MS);
});
