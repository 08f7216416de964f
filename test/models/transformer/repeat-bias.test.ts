import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { newSessionState } from '../../../src/sessions/session-state.js';
import { Rng } from '../../../models/training/rng.js';
import { resolveTransformerConfig } from '../../../models/transformer/config.js';
import { TransformerParams } from '../../../models/transformer/params.js';
import { TransformerScorer } from '../../../models/transformer/scorer.js';
import { trainTransformer } from '../../../models/transformer/train.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

const ITEMS = 120;

describe('transformer repeat bias', () => {
  beforeAll(async () => { await selectBackend({ backend: 'wasm' }); });

  it('adds the bias of each window item\'s latest distance to its score, and nothing elsewhere', async () => {
    const config = resolveTransformerConfig({ hiddenSize: 8, heads: 2, feedForwardSize: 8, maxLength: 4, repeatBias: true });
    const p = new TransformerParams(config, 20);
    p.initialize(new Rng(2));
    const bias = p.get('repeat_bias');
    bias.set([0.5, -1, 2, 3]);
    const plain = new TransformerParams(resolveTransformerConfig({ ...config, repeatBias: false }), 20);
    plain.named().forEach((w) => w.values.set(p.named().find((x) => x.name === w.name)!.values));
    const a = newSessionState('a', 0, 0), b = newSessionState('b', 0, 0);
    const withBias = new TransformerScorer(p), without = new TransformerScorer(plain);
    // Window (last 4) of [9, 3, 7, 3, 5]: 5 at distance 0, 3 at 1 (its latest), 7 at 2; 9 is outside.
    for (const it of [9, 3, 7, 3, 5]) { a.items.push(it); b.items.push(it); await withBias.observe([a]); await without.observe([b]); }
    const got = await withBias.score([a]), ref = await without.score([b]);
    const diff = Array.from(got, (x, i) => Math.round((x - ref[i]!) * 1e4) / 1e4);
    const want = new Array(20).fill(0);
    want[5] = 0.5; want[3] = -1; want[7] = 2;
    expect(diff).toEqual(want);
    withBias.dispose(); without.dispose();
  });

  it('learns to favour the item clicked two steps back when sessions alternate between two items', async () => {
    const rng = new Rng(4);
    const vocabulary = ItemVocabulary.fromIds(Array.from({ length: ITEMS }, (_, i) => `i${i}`));
    const sessions: number[][] = [];
    for (let s = 0; s < 1500; s++) {
      const x = rng.int(ITEMS), y = (x + 1 + rng.int(ITEMS - 1)) % ITEMS;
      sessions.push(Array.from({ length: 4 + rng.int(5) }, (_, t) => (t % 2 === 0 ? x : y)));
    }
    const offsets = new Int32Array(sessions.length + 1);
    sessions.forEach((s, i) => { offsets[i + 1] = offsets[i]! + s.length; });
    const data = { offsets, items: Int32Array.from(sessions.flat()), vocabulary };
    const r = await trainTransformer(data, { config: { repeatBias: true, hiddenSize: 16, heads: 2, feedForwardSize: 16, maxLength: 8, nSample: 64, batchSize: 32, epochs: 2, learningRate: 0.01, validationFraction: 0, seed: 1 } });
    const bias = r.params.get('repeat_bias');
    // Distance 1 is the item two clicks back (the newest is distance 0).
    expect(bias[1]!).toBeGreaterThan(Math.max(bias[0]!, bias[2]!) + 0.2);
  }, HEAVY_TEST_TIMEOUT_MS);
});
