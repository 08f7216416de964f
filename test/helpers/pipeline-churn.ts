import { Rng } from '../../models/training/rng.js';
import { tf } from '../../src/backend/tf.js';
import type { ClickPipeline } from '../../src/pipeline/click-pipeline.js';
import { countReadBacks } from './read-backs.js';

/**
 * Feeds a pipeline 1 + 100 micro-batches of 8 events, over `sessions` session ids (`u0`…) and `items` item ids
 * (`i0`…), one second apart, with a fixed seed: with a session cap below `sessions` this evicts sessions all the
 * time. Returns what the serving tests assert on: read-backs and pipeline batches over the 100 batches, whether
 * every event got 5 items, and the live tensor count before and after them (the first batch warms up).
 */
export async function churnPipeline(pipeline: ClickPipeline, sessions: number, items: number): Promise<{ reads: number; batches: number; allAnswered: boolean; tensorsBefore: number; tensorsAfter: number }> {
  const rng = new Rng(8);
  let t = 0;
  const batch = () => Array.from({ length: 8 }, () => ({ event: { sessionId: `u${rng.int(sessions)}`, itemId: `i${rng.int(items)}`, timestamp: (t += 1000) }, meta: undefined }));
  await pipeline.process(batch());
  const tensorsBefore = tf.memory().numTensors;
  const batchesBefore = pipeline.stats().batches;
  let reads = 0;
  let allAnswered = true;
  for (let i = 0; i < 100; i++) {
    const r = await countReadBacks(() => pipeline.process(batch()));
    reads += r.reads;
    allAnswered &&= r.result.every((o) => o.recommendation !== undefined && o.recommendation.items.length === 5);
  }
  return { reads, batches: pipeline.stats().batches - batchesBefore, allAnswered, tensorsBefore, tensorsAfter: tf.memory().numTensors };
}
