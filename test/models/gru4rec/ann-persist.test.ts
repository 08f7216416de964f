import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGru4Rec, saveGru4Rec } from '../../../models/gru4rec/io.js';
import { trainGru4Rec } from '../../../models/gru4rec/train.js';
import { buildCorpus } from '../../../src/baselines/corpus.js';
import { newSessionState } from '../../../src/sessions/session-state.js';
import { generateSessions } from '../../../src/synthetic/index.js';

describe('GRU4Rec ANN serving index persisted with the model', () => {
  afterEach(() => {
    delete process.env['NEXTCLICK_SCORING'];
  });

  it('builds the graph on the first ANN load, reuses it on the next, and recommends the same', async () => {
    const log = generateSessions({ items: 300, intents: 8, sessions: 400, seed: 5 });
    const corpus = await buildCorpus(log.train.map((s) => ({ items: s.items })));
    const model = await trainGru4Rec(corpus, { config: { layers: [16], epochs: 1, nSample: 32, batchSize: 16, validationFraction: 0, seed: 1 } });
    const dir = join(await mkdtemp(join(tmpdir(), 'gru-ann-')), 'm');
    await saveGru4Rec(dir, model);
    process.env['NEXTCLICK_SCORING'] = 'ann';

    const first = await loadGru4Rec(dir);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.hnsw'));
    expect(files).toHaveLength(1);
    const built = await stat(join(dir, files[0]!));
    const second = await loadGru4Rec(dir);
    expect((await stat(join(dir, files[0]!))).mtimeMs).toBe(built.mtimeMs);

    const session = newSessionState('s', 0, 0);
    session.items.push(3, 7, 11);
    const a = { ...session, modelState: undefined };
    const b = { ...session, modelState: undefined };
    await first.scorer.observe([a]);
    await second.scorer.observe([b]);
    const ra = await first.scorer.recommend!([a], 10, [{}]);
    const rb = await second.scorer.recommend!([b], 10, [{}]);
    expect(Array.from(rb[0]!.items)).toEqual(Array.from(ra[0]!.items));
    first.scorer.dispose();
    second.scorer.dispose();
  });
});
