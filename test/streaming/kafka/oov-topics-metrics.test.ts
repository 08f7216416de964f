// RELIABILITY.md 17–18: OOV policies (an unknown first event answers or dead-letters per policy; dead letters
// carry the original key and value bytes), start-up topic checks (missing → typed error naming them, or
// created), and the session gauges/counters on /metrics.
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { encodeClickEvent } from '../../../src/events/codec.js';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { RecordHeaders } from '../../../streaming/kafka/headers.js';
import { KafkaStreamWorker } from '../../../streaming/kafka/stream-worker.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { createTopics, EventProducer } from '../../../streaming/kafka/topics.js';
import type { StreamOovPolicy } from '../../../streaming/kafka/worker-options.js';
import { BASE_TIME } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, waitFor } from '../helpers.js';

const codec = new MsgpackCodec();

describe.skipIf(kafkaSkipped())('Kafka worker: OOV policies, topic checks, session metrics', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  it('an unknown first event is ignored, answered with popular items, or dead-lettered with its original bytes, per policy', async () => {
    const brokers = kafkaBrokers();
    const n = names('oov');
    await createTopics(brokers, [{ topic: n.input, partitions: 1 }]);
    // Session u: unknown, unknown, then a known item; session k: known items only.
    const events = [
      { sessionId: 'u', itemId: 'no-such-item', timestamp: BASE_TIME },
      { sessionId: 'k', itemId: 3, timestamp: BASE_TIME + 1000 },
      { sessionId: 'u', itemId: 'also-unknown', timestamp: BASE_TIME + 2000 },
      { sessionId: 'u', itemId: 7, timestamp: BASE_TIME + 3000 },
      { sessionId: 'k', itemId: 4, timestamp: BASE_TIME + 4000 },
    ];
    const values = events.map((e) => encodeClickEvent(codec, e));
    const producer = new EventProducer(brokers, n.input, codec);
    await producer.connect();
    await producer.sendRaw(events.map((e, i) => ({ key: Buffer.from(`key-${e.sessionId}`), value: values[i]! })));
    await producer.disconnect();

    const results: Record<string, { outputs: Awaited<ReturnType<typeof readTopic>>; dead: Awaited<ReturnType<typeof readTopic>> }> = {};
    for (const oov of ['ignore', 'recommend-popular', 'error'] as StreamOovPolicy[]) {
      const t = { output: `${n.output}-${oov}`, dlq: `${n.dlq}-${oov}` };
      const worker = new KafkaStreamWorker(new HistoryScorer(10), testVocabulary(10), {
        brokers, inputTopic: n.input, outputTopic: t.output, deadLetterTopic: t.dlq, groupId: `${n.group}-${oov}`, codec,
        createTopics: { partitions: 1 }, pipeline: { k: 3, oov },
      });
      onTestFinished(() => worker.close());
      await worker.start();
      expect(await waitFor(() => worker.stats().records >= events.length, 300_000), `${oov}: ${worker.stats().records}`).toBe(true);
      await worker.close();
      results[oov] = { outputs: await readTopic(brokers, t.output), dead: await readTopic(brokers, t.dlq) };
    }
    const offsets = (rs: Awaited<ReturnType<typeof readTopic>>) => rs.map((r) => r.headers[RecordHeaders.inputOffset]);
    console.log(`[oov] ${Object.entries(results).map(([p, r]) => `${p}: outputs at ${offsets(r.outputs).join(',')} dead at ${offsets(r.dead).join(',')}`).join('; ')}`);
    expect(offsets(results['ignore']!.outputs)).toEqual(['1', '3', '4']);
    expect(results['ignore']!.dead).toEqual([]);

    expect(offsets(results['recommend-popular']!.outputs)).toEqual(['0', '1', '2', '3', '4']);
    const popular = results['recommend-popular']!.outputs.map((o) => codec.decode(o.value!) as { items: number[]; scores: number[]; fallback?: string });
    expect(popular[0]).toMatchObject({ items: [0, 1, 2], scores: [0, 0, 0], fallback: 'popular' });
    expect(popular[2]).toMatchObject({ items: [0, 1, 2], fallback: 'popular' });
    expect(popular[3]!.fallback).toBeUndefined();

    expect(offsets(results['error']!.outputs)).toEqual(['1', '3', '4']);
    const dead = results['error']!.dead;
    expect(offsets(dead)).toEqual(['0', '2']);
    for (const d of dead) {
      expect(d.headers[RecordHeaders.deadLetterReason]).toBe('UNKNOWN_ITEM');
      expect(d.key).toBe('key-u');
      expect(Buffer.compare(d.value!, values[Number(d.headers[RecordHeaders.inputOffset])]!)).toBe(0);
    }
  });

  it('start() names missing topics (InvalidOptionError) or creates them with createTopics', async () => {
    const brokers = kafkaBrokers();
    const n = names('topics');
    await createTopics(brokers, [{ topic: n.input, partitions: 2 }]);
    const opts = { brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, codec };
    const refused = new KafkaStreamWorker(new HistoryScorer(10), testVocabulary(10), opts);
    const err = await refused.start().then(() => undefined, (e: unknown) => e);
    await refused.close();
    expect(err).toMatchObject({ code: 'INVALID_OPTION', option: 'topics' });
    expect((err as Error).message).toContain(`${n.output} (outputTopic), ${n.dlq} (deadLetterTopic)`);

    const creating = new KafkaStreamWorker(new HistoryScorer(10), testVocabulary(10), { ...opts, createTopics: {} });
    onTestFinished(() => creating.close());
    await creating.start();
    await creating.close();
    const admin = new Kafka({ clientId: 'test', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [n.output, n.dlq] });
    await admin.disconnect();
    // Partitions default to the input topic's.
    expect(meta.topics.map((t) => t.partitions.length)).toEqual([2, 2]);
  });

  it('exports live sessions and sessions closed by reason (evictions over maxSessions) as metrics', async () => {
    const brokers = kafkaBrokers();
    const n = names('session-metrics');
    await createTopics(brokers, [{ topic: n.input, partitions: 1 }, { topic: n.output, partitions: 1 }, { topic: n.dlq, partitions: 1 }]);
    const producer = new EventProducer(brokers, n.input, codec);
    await producer.connect();
    await producer.send(Array.from({ length: 40 }, (_, i) => ({ sessionId: `s${i}`, itemId: i % 10, timestamp: BASE_TIME + i * 1000 })));
    await producer.disconnect();
    const registry = new Registry();
    const worker = new KafkaStreamWorker(new HistoryScorer(10), testVocabulary(10), {
      brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, codec, registry, pipeline: { k: 3, sessions: { maxSessions: 5 } },
    });
    onTestFinished(() => worker.close());
    await worker.start();
    expect(await waitFor(() => worker.stats().records >= 40, 300_000)).toBe(true);
    const live = await registry.getSingleMetricAsString('nextclick_live_sessions');
    const closed = await registry.getSingleMetricAsString('nextclick_sessions_closed_total');
    await worker.close();
    console.log(`[session metrics] ${live.split('\n').pop()} ${closed.split('\n').filter((l) => !l.startsWith('#')).join(' ')}`);
    expect(live).toContain('nextclick_live_sessions 5');
    expect(closed).toContain('nextclick_sessions_closed_total{reason="evicted"} 35');
  });
});
