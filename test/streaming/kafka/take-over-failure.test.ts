// A partition whose take-over fails with an error kafkajs deems non-retriable (a producer state error, a retry
// limit reached during a broker outage) must not stop the consumer: before the fix such an error, thrown before
// the partition's first batch, reached kafkajs as-is and the consumer crashed for good (every partition), the
// suspected cause of a broker-bounce run that "did not catch up" (streaming/README.md, reliability #26).
import { describe, expect, it, onTestFinished } from 'vitest';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { KafkaRecommendationSink } from '../../../streaming/kafka/recommendation-sink.js';
import { KafkaStreamWorker } from '../../../streaming/kafka/stream-worker.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { committedLag } from '../../../streaming/kafka/topics.js';
import { makeEvents } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { inputOffsets, KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, produceEvents, setupTopics, verify, waitFor } from '../helpers.js';

describe.skipIf(kafkaSkipped())('Kafka worker, failing partition take-over', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  it.each([true, false])('exactly-once (changelog %s): a non-retriable take-over error is retried; 0 lost, 0 duplicated, no fatal crash', async (changelog) => {
    const brokers = kafkaBrokers();
    const n = names(`takeover-${String(changelog)}`);
    await setupTopics(brokers, n);
    const codec = new MsgpackCodec();
    await produceEvents(brokers, n.input, codec, makeEvents(900, 60, 50, 9));
    // The first take-over of partition 1 fails the way kafkajs' own non-retriable errors do (retriable: false).
    const original = KafkaRecommendationSink.prototype.takeOver;
    let failures = 0;
    KafkaRecommendationSink.prototype.takeOver = async function (this: KafkaRecommendationSink, partition: number) {
      if (partition === 1 && failures === 0) {
        failures++;
        throw Object.assign(new Error('simulated: Transaction state exception'), { name: 'KafkaJSNonRetriableError', retriable: false });
      }
      return original.call(this, partition);
    };
    onTestFinished(() => { KafkaRecommendationSink.prototype.takeOver = original; });
    const worker = new KafkaStreamWorker(new HistoryScorer(50), testVocabulary(50), {
      brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, codec, delivery: 'exactly-once',
      appId: n.group, stepSize: 100, maxFetchBytes: 8 * 1024, changelog, createTopics: {},
    });
    onTestFinished(() => worker.close());
    let fatal = 0;
    worker.on('crash', (c) => { if (c.fatal) fatal++; });
    await worker.start();
    const done = await waitFor(async () => fatal > 0 || (await committedLag(brokers, n.group, n.input).catch(() => -1)) === 0, 300_000, 500);
    await worker.close();
    const v = verify(await readTopic(brokers, n.output, { isolation: 'read_committed' }), await inputOffsets(brokers, n.input));
    console.log(`[take-over failure changelog=${String(changelog)}] injected=${failures} fatal=${fatal} inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated}`);
    expect(failures).toBe(1);
    expect(fatal).toBe(0);
    expect(done).toBe(true);
    expect(v).toMatchObject({ inputs: 900, outputs: 900, lost: 0, duplicated: 0 });
  });
});
