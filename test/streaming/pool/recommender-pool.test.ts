import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, trainBaseline } from '../../../src/baselines/index.js';
import { Recommender } from '../../../src/scoring/recommender.js';
import { loadModel } from '../../../src/scoring/model-registry.js';
import { generateSessions, sessionsToEvents } from '../../../src/synthetic/index.js';
import { RecommenderPool } from '../../../streaming/pool/recommender-pool.js';
import type { ClickEvent } from '../../../src/events/click-event.js';

// The pool runs the compiled worker from dist/ (npm test builds first).
describe('RecommenderPool (worker threads)', () => {
  let dir: string;
  let events: ClickEvent[];
  beforeAll(async () => {
    const log = generateSessions({ sessions: 600, items: 200, seed: 9 });
    const corpus = await buildCorpus(log.train);
    dir = join(await mkdtemp(join(tmpdir(), 'pool-')), 'sr');
    await trainBaseline('sr', corpus).save(dir);
    events = sessionsToEvents(log.test).slice(0, 1500);
  });
  let pool: RecommenderPool | undefined;
  afterAll(async () => {
    await pool?.close();
  });

  it('gives exactly the results of a single in-process Recommender, in any interleaving', async () => {
    pool = await RecommenderPool.load(dir, { workers: 2, k: 10 });
    expect(pool.size).toBe(2);
    const single = Recommender.fromModel(await loadModel(dir), { k: 10 });
    const expected = [];
    for (const e of events) expected.push(await single.observe(e));
    await single.close();
    // Fire everything at once: sessions are sharded, each keeps its order on its worker.
    const got = await Promise.all(events.map((e) => pool!.observe(e)));
    expect(got.map((r) => r?.items)).toEqual(expected.map((r) => r?.items));
    const last = events[events.length - 1]!;
    expect((await pool.recommend(last.sessionId, { k: 3 }))?.items).toEqual(expected[expected.length - 1]?.items.slice(0, 3));
    const stats = (await pool.stats()) as { events: number }[];
    expect(stats.reduce((a, s) => a + s.events, 0)).toBe(events.length);
  });

  it('rejects bad events with a typed error on the caller thread, and use after close', async () => {
    const p = await RecommenderPool.load(dir, { workers: 1 });
    await expect(p.observe({ sessionId: 's', timestamp: 1 })).rejects.toThrowError(expect.objectContaining({ code: 'INVALID_EVENT', field: 'itemId' }) as Error);
    await p.close();
    await p.close();
    await expect(p.observe({ sessionId: 's', itemId: 1, timestamp: 1 })).rejects.toThrowError(expect.objectContaining({ code: 'CLOSED' }) as Error);
  });

  it('fails to load with the model error, leaving no threads behind', async () => {
    await expect(RecommenderPool.load(join(dir, 'missing'), { workers: 2 })).rejects.toThrow(/not a model directory/);
  });
});
