import { describe, expect, it } from 'vitest';
import { chunkRequests } from '../../streaming/kafka/recommendation-sink.js';

describe('chunkRequests', () => {
  it('splits large deliveries into bounded produce requests, keeping order and every message', () => {
    const value = Buffer.alloc(1_000);
    const msgs = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value }));
    const dead = [{ key: 'd', value: Buffer.alloc(10_000) }];
    const requests = chunkRequests([{ topic: 'out', messages: msgs }, { topic: 'dlq', messages: dead }], 8_000);
    expect(requests.length).toBeGreaterThan(5);
    const flat = requests.flatMap((r) => r.flatMap((t) => t.messages.map((m) => `${t.topic}/${String(m.key)}`)));
    expect(flat).toEqual([...msgs.map((m) => `out/${m.key}`), 'dlq/d']);
    // A record larger than the limit travels alone rather than being dropped.
    expect(requests.at(-1)).toEqual([{ topic: 'dlq', messages: dead }]);
  });

  it('returns no request for an empty delivery', () => {
    expect(chunkRequests([{ topic: 'out', messages: [] }], 1_000)).toEqual([]);
  });
});

describe('KafkaStreamWorker lifecycle without a broker', () => {
  it('validates options at construction and closes cleanly when never started (one shared promise)', async () => {
    const { KafkaStreamWorker } = await import('../../streaming/kafka/stream-worker.js');
    const { HistoryScorer, testVocabulary } = await import('./fixtures/scorers.js');
    const base = { brokers: ['127.0.0.1:1'], inputTopic: 'in', outputTopic: 'out', groupId: 'g' };
    expect(() => new KafkaStreamWorker(new HistoryScorer(3), testVocabulary(3), { ...base, outputTopic: 'in' })).toThrow(/different topics/);
    expect(() => new KafkaStreamWorker(new HistoryScorer(3), testVocabulary(3), { ...base, brokers: ['nohost'] })).toThrow(/host:port/);
    expect(() => new KafkaStreamWorker(new HistoryScorer(3), testVocabulary(3), { ...base, stepSize: 0 })).toThrow(/stepSize/);
    expect(() => new KafkaStreamWorker(new HistoryScorer(3), testVocabulary(3), { ...base, pipeline: { k: 0 } })).toThrow(/k must be/);
    const w = new KafkaStreamWorker(new HistoryScorer(3), testVocabulary(3), base);
    const closing = w.close();
    expect(w.close()).toBe(closing);
    await closing;
    await expect(w.start()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
