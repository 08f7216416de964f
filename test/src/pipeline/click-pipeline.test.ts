import { describe, expect, it } from 'vitest';
import { ClickPipeline } from '../../../src/pipeline/click-pipeline.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { SuccessorScorer } from '../../helpers/toy-scorer.js';

const vocab = () => ItemVocabulary.fromIds(['i0', 'i1', 'i2', 'i3', 'i4']);
const ev = (sessionId: string, itemId: string, timestamp: number, eventId?: string) => ({ sessionId, itemId, timestamp, ...(eventId ? { eventId } : {}) });

describe('ClickPipeline', () => {
  it('recommends after each event with external ids, model version and event time', async () => {
    const p = new ClickPipeline(new SuccessorScorer(5), vocab(), { k: 2, modelVersion: 'v1' });
    const [out] = await p.process([{ event: ev('s', 'i1', 10), meta: 'm' }]);
    expect(out!.outcome).toBe('appended');
    expect(out!.meta).toBe('m');
    expect(out!.recommendation).toEqual({ sessionId: 's', items: ['i2', 'i3'], scores: [4, 3], eventTime: 10, modelVersion: 'v1' });
  });

  it('never puts two events of one session into one model call, and keeps their order', async () => {
    const scorer = new SuccessorScorer(5);
    const p = new ClickPipeline(scorer, vocab(), { k: 1 });
    const outs = await p.process([
      { event: ev('a', 'i0', 1), meta: 0 },
      { event: ev('b', 'i0', 1), meta: 1 },
      { event: ev('a', 'i2', 2), meta: 2 },
    ]);
    expect(scorer.observeCalls).toEqual([2, 1]);
    expect(outs.map((o) => o.recommendation?.items[0])).toEqual(['i1', 'i1', 'i3']);
    expect(p.sessionizer.get('a')!.modelState).toBe(2);
  });

  it('reports duplicates and unknown items; oov "error" rejects with a typed error', async () => {
    const p = new ClickPipeline(new SuccessorScorer(5), vocab());
    const outs = await p.process([
      { event: ev('a', 'i0', 1, 'e1'), meta: 0 },
      { event: ev('a', 'i1', 2, 'e1'), meta: 1 },
      { event: ev('b', 'zzz', 2), meta: 2 },
    ]);
    expect(outs.map((o) => o.outcome)).toEqual(['appended', 'duplicate', 'no-item']);
    expect(outs[2]!.recommendation).toBeUndefined();
    expect(p.stats()).toMatchObject({ events: 3, outOfVocabulary: 1, duplicates: 1 });
    const strict = new ClickPipeline(new SuccessorScorer(5), vocab(), { oov: 'error' });
    const [r] = await strict.process([{ event: ev('a', 'zzz', 1), meta: 0 }]);
    expect(r!.outcome).toBe('rejected');
    expect(r!.error?.code).toBe('UNKNOWN_ITEM');
  });

  it('applies blocklist, allowlist and excludeSeen', async () => {
    const p = new ClickPipeline(new SuccessorScorer(5), vocab(), { k: 3, blocklist: ['i2'], excludeSeen: true });
    await p.process([{ event: ev('a', 'i1', 1), meta: 0 }]);
    const [o] = await p.process([{ event: ev('a', 'i0', 2), meta: 0 }]);
    expect(o!.recommendation!.items).toEqual(['i3', 'i4']);
    const allow = new ClickPipeline(new SuccessorScorer(5), vocab(), { k: 3, allowlist: ['i4', 'i0'] });
    const [a] = await allow.process([{ event: ev('a', 'i1', 1), meta: 0 }]);
    expect(a!.recommendation!.items).toEqual(['i4', 'i0']);
  });

  it('micro-batches pushed events into one model call and resolves each', async () => {
    const scorer = new SuccessorScorer(5);
    const p = new ClickPipeline(scorer, vocab(), { k: 1, maxBatchSize: 10, maxDelayMs: 5 });
    const results = await Promise.all(['a', 'b', 'c'].map((s, i) => p.push(ev(s, `i${i}`, 1), s)));
    expect(scorer.observeCalls).toEqual([3]);
    expect(results.map((r) => `${r.meta}:${r.recommendation!.items[0]}`)).toEqual(['a:i1', 'b:i2', 'c:i3']);
  });

  it('adaptive batching: events pushed during a step all go in the next step, split at maxBatchSize', async () => {
    // A scorer whose observe is async, like a GPU step, held open until the test releases it (no timers):
    // pushes made while it runs must queue, not start steps.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    class SlowScorer extends SuccessorScorer {
      override async observe(sessions: Parameters<SuccessorScorer['observe']>[0]): Promise<void> {
        await gate;
        super.observe(sessions);
      }
    }
    const scorer = new SlowScorer(5);
    const p = new ClickPipeline(scorer, vocab(), { k: 1, maxBatchSize: 4 });
    const first = p.push(ev('s0', 'i0', 1), 0);
    await new Promise((r) => setImmediate(r)); // the first step has started with one event
    const rest = Array.from({ length: 6 }, (_, i) => p.push(ev(`s${i + 1}`, 'i1', 1), i + 1));
    release();
    const outs = await Promise.all([first, ...rest]);
    expect(scorer.observeCalls).toEqual([1, 4, 2]);
    expect(outs.map((o) => o.meta)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(outs.every((o) => o.recommendation !== undefined)).toBe(true);
    // flush() waits for queued and running steps alike.
    const late = [p.push(ev('x', 'i2', 2), 'x'), p.push(ev('y', 'i2', 2), 'y')];
    await p.flush();
    expect(p.pending).toBe(0);
    expect(scorer.observeCalls).toEqual([1, 4, 2, 2]);
    await Promise.all(late);
  });

  it('recommend() scores a live session on demand and is stable', async () => {
    const p = new ClickPipeline(new SuccessorScorer(5), vocab(), { k: 2 });
    await p.process([{ event: ev('a', 'i3', 1), meta: 0 }]);
    const r1 = await p.recommend('a', { exclude: ['i4'] });
    const r2 = await p.recommend('a', { exclude: ['i4'] });
    expect(r1!.items).toEqual(['i0', 'i1']);
    expect(r2).toEqual(r1);
    expect(await p.recommend('nobody')).toBeUndefined();
  });

  it('hot-swaps the model: sessions keep items (re-mapped) and rebuild state', async () => {
    const p = new ClickPipeline(new SuccessorScorer(5), vocab(), { k: 1 });
    await p.process([{ event: ev('a', 'i1', 1), meta: 0 }]);
    const v2 = ItemVocabulary.fromIds(['i9', 'i1', 'i2']);
    await p.swapModel(new SuccessorScorer(3), v2, 'v2');
    expect(p.sessionizer.get('a')!.items).toEqual([1]);
    const [o] = await p.process([{ event: ev('a', 'i2', 2), meta: 0 }]);
    expect(o!.recommendation).toMatchObject({ items: ['i9'], modelVersion: 'v2' });
  });

  it('rejects use after close', async () => {
    const p = new ClickPipeline(new SuccessorScorer(5), vocab());
    await p.close();
    await expect(p.process([])).rejects.toThrowError(expect.objectContaining({ code: 'CLOSED' }) as Error);
  });

  it('validates options', () => {
    expect(() => new ClickPipeline(new SuccessorScorer(5), vocab(), { k: 0 })).toThrow(/k must be/);
    expect(() => new ClickPipeline(new SuccessorScorer(5), vocab(), { maxBatchSize: 1.5 })).toThrow(/maxBatchSize/);
  });
});
