// RELIABILITY.md 1: no loss, no duplicates in exactly-once mode; order within a session preserved.
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { KafkaStreamWorker } from '../../../streaming/kafka/stream-worker.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { makeEvents } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { inputOffsets, KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, produceEvents, setupTopics, verify, waitFor } from '../helpers.js';

describe.skipIf(kafkaSkipped())('Kafka worker, exactly-once', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  it('writes exactly one recommendation per input event (10^4 events, 3 partitions)', async () => {
    const brokers = kafkaBrokers();
    const n = names('eos');
    await setupTopics(brokers, n);
    const codec = new MsgpackCodec();
    const events = makeEvents(10_000, 500, 200, 7);
    await produceEvents(brokers, n.input, codec, events);
    const registry = new Registry();
    const worker = new KafkaStreamWorker(new HistoryScorer(200), testVocabulary(200), {
      brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group,
      delivery: 'exactly-once', appId: `${n.group}-a`, codec, registry, pipeline: { k: 5 },
    });
    onTestFinished(() => worker.close());
    await worker.start();
    const done = await waitFor(() => worker.stats().records >= events.length, 300_000);
    expect(done, `processed ${worker.stats().records}/${events.length}`).toBe(true);
    await worker.close();

    const outputs = await readTopic(brokers, n.output, { isolation: 'read_committed' });
    const v = verify(outputs, await inputOffsets(brokers, n.input));
    console.log(`[eos] inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated} outOfOrderSessions=${v.outOfOrderSessions}`);
    expect(v).toMatchObject({ inputs: 10_000, outputs: 10_000, lost: 0, duplicated: 0, outOfOrderSessions: 0 });
    const first = codec.decode(outputs[0]!.value!) as { sessionId: string; items: number[]; scores: number[]; modelVersion: string; eventTime: number; v: number };
    expect(first.items).toHaveLength(5);
    expect(first.scores).toHaveLength(5);
    expect(first.modelVersion).toBe('history-test');
    expect(outputs[0]!.key).toBe(first.sessionId);
    const metrics = await registry.getSingleMetricAsString('nextclick_recommendations_total');
    expect(metrics).toContain('nextclick_recommendations_total 10000');
  });
});
