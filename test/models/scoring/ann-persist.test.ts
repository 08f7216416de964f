import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGru4Rec, saveGru4Rec } from '../../../models/gru4rec/io.js';
import { trainGru4Rec } from '../../../models/gru4rec/train.js';
import { Rng } from '../../../models/training/rng.js';
import { resolveTransformerConfig } from '../../../models/transformer/config.js';
import { loadTransformer, saveTransformer } from '../../../models/transformer/io.js';
import { TransformerParams } from '../../../models/transformer/params.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import type { LoadedModel } from '../../../src/scoring/model-registry.js';
import { buildCorpus } from '../../../src/baselines/corpus.js';
import { newSessionState } from '../../../src/sessions/session-state.js';
import { generateSessions } from '../../../src/synthetic/index.js';

describe('ANN serving index persisted with the model (NEXTCLICK_SCORING=ann)', () => {
  afterEach(() => {
    delete process.env['NEXTCLICK_SCORING'];
  });

  /** A GRU4Rec trained for an epoch, or a transformer as initialised (cosine scoring), saved into a directory. */
  async function saved(kind: 'gru4rec' | 'transformer'): Promise<{ dir: string; load: (dir: string) => Promise<LoadedModel> }> {
    const dir = join(await mkdtemp(join(tmpdir(), `${kind}-ann-`)), 'm');
    if (kind === 'gru4rec') {
      const log = generateSessions({ items: 300, intents: 8, sessions: 400, seed: 5 });
      const corpus = await buildCorpus(log.train.map((s) => ({ items: s.items })));
      await saveGru4Rec(dir, await trainGru4Rec(corpus, { config: { layers: [16], epochs: 1, nSample: 32, batchSize: 16, validationFraction: 0, seed: 1 } }));
      return { dir, load: loadGru4Rec };
    }
    const config = resolveTransformerConfig({ hiddenSize: 16, heads: 2, feedForwardSize: 24, maxLength: 8 });
    const params = new TransformerParams(config, 300);
    params.initialize(new Rng(4));
    await saveTransformer(dir, { params, config, vocabulary: ItemVocabulary.fromIds(Array.from({ length: 300 }, (_, i) => `i${i}`)) });
    return { dir, load: loadTransformer };
  }

  it.each(['gru4rec', 'transformer'] as const)('%s: builds the graph on the first ANN load, reuses it on the next, and recommends the same', async (kind) => {
    const { dir, load } = await saved(kind);
    process.env['NEXTCLICK_SCORING'] = 'ann';

    const first = await load(dir);
    expect((first.scorer as { scoringMode?: string }).scoringMode).toBe('ann');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.hnsw'));
    expect(files).toHaveLength(1);
    const built = await stat(join(dir, files[0]!));
    const second = await load(dir);
    expect((await stat(join(dir, files[0]!))).mtimeMs).toBe(built.mtimeMs);

    const session = newSessionState('s', 0, 0);
    session.items.push(3, 7, 11);
    const a = { ...session, modelState: undefined };
    const b = { ...session, modelState: undefined };
    await first.scorer.observe([a]);
    await second.scorer.observe([b]);
    const ra = await first.scorer.recommend!([a], 10, [{}]);
    const rb = await second.scorer.recommend!([b], 10, [{}]);
    expect(ra[0]!.items).toHaveLength(10);
    expect(Array.from(rb[0]!.items)).toEqual(Array.from(ra[0]!.items));
    first.scorer.dispose?.();
    second.scorer.dispose?.();
  });
});
