// Hot swap of the model without stopping, rebalance handling with two workers, and the /metrics endpoint.
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { KafkaStreamWorker } from '../../../streaming/kafka/stream-worker.js';
import { startMetricsServer } from '../../../streaming/metrics-server.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { committedLag } from '../../../streaming/kafka/topics.js';
import { makeEvents } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { inputOffsets, kafkaBrokers, kafkaSkipped, names, produceEvents, setupTopics, verify, waitFor } from '../helpers.js';

describe.skipIf(kafkaSkipped())('Kafka worker, hot swap, rebalance and metrics', () => {
  it('swaps the model mid-stream without stopping; later recommendations carry the new version', async () => {
    const brokers = kafkaBrokers();
    const n = names('swap');
    await setupTopics(brokers, n);
    const codec = new MsgpackCodec();
    const registry = new Registry();
    const worker = new KafkaStreamWorker(new HistoryScorer(100), testVocabulary(100), {
      brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, codec, registry,
      pipeline: { modelVersion: 'v1', k: 3 },
    });
    onTestFinished(() => worker.close());
    await worker.start();
    const metrics = await startMetricsServer(registry, { port: 0 });
    onTestFinished(() => metrics.close());
    await produceEvents(brokers, n.input, codec, makeEvents(1_000, 50, 100, 1));
    expect(await waitFor(() => worker.stats().records >= 1_000, 30_000)).toBe(true);
    const old = await worker.swapModel(new HistoryScorer(100), testVocabulary(100), 'v2');
    expect(old.name).toBe('history-test');
    await produceEvents(brokers, n.input, codec, makeEvents(1_000, 50, 100, 2, 't'));
    expect(await waitFor(() => worker.stats().records >= 2_000, 30_000)).toBe(true);
    const body = await (await fetch(metrics.url)).text();
    expect(body).toContain('nextclick_recommendations_total 2000');
    expect(body).toContain('nextclick_event_to_recommendation_seconds_count 2000');
    expect(body).toMatch(/nextclick_consumer_lag\{topic="[^"]+",partition="\d"\} 0/);
    expect(body).toContain('nextclick_rebalances_total 1');
    await worker.close();
    const versions = (await readTopic(brokers, n.output)).map((r) => (codec.decode(r.value!) as { modelVersion: string }).modelVersion);
    expect(versions.filter((v) => v === 'v1')).toHaveLength(1_000);
    expect(versions.filter((v) => v === 'v2')).toHaveLength(1_000);
  });

  it('a second worker joining takes over partitions; revoked sessions are dropped and nothing is lost (EOS)', async () => {
    const brokers = kafkaBrokers();
    const n = names('rebal');
    await setupTopics(brokers, n);
    const codec = new MsgpackCodec();
    await produceEvents(brokers, n.input, codec, makeEvents(6_000, 300, 100, 8));
    const make = (id: string) => {
      const w = new KafkaStreamWorker(new HistoryScorer(100, 1), testVocabulary(100), {
        brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, codec, delivery: 'exactly-once',
        transactionalId: `${n.group}-${id}`, stepSize: 100, maxFetchBytes: 16 * 1024, sessionTimeoutMs: 6_000,
      });
      onTestFinished(() => w.close());
      return w;
    };
    const a = make('a');
    let dropped = 0;
    a.on('rebalance', (r) => { dropped += r.droppedSessions; });
    await a.start();
    expect(await waitFor(() => a.stats().records >= 1_000, 30_000, 20)).toBe(true);
    const b = make('b');
    await b.start();
    expect(await waitFor(() => a.stats().rebalances >= 2, 30_000)).toBe(true);
    expect(await waitFor(async () => (await committedLag(brokers, n.group, n.input)) === 0, 90_000, 500)).toBe(true);
    await Promise.all([a.close(), b.close()]);
    const v = verify(await readTopic(brokers, n.output, { isolation: 'read_committed' }), await inputOffsets(brokers, n.input));
    console.log(`[rebalance] a=${a.stats().records} b=${b.stats().records} bRebuilt=${b.stats().rebuilt} droppedByA=${dropped} lost=${v.lost} duplicated=${v.duplicated}`);
    expect(v.lost).toBe(0);
    expect(v.duplicated).toBe(0);
    expect(b.stats().records).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
  });
});
