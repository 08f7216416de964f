// RELIABILITY.md 9 (backpressure: a slow model keeps memory bounded, no session-timeout evictions,
// pause/resume) and 10 (graceful close under load; a restart loses nothing).
import { describe, expect, it, onTestFinished } from 'vitest';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { KafkaStreamWorker } from '../../../streaming/kafka/stream-worker.js';
import type { KafkaStreamWorkerOptions } from '../../../streaming/kafka/worker-options.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { committedLag, EventProducer } from '../../../streaming/kafka/topics.js';
import { makeEvents } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { inputOffsets, KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, produceEvents, setupTopics, verify, waitFor } from '../helpers.js';

function makeWorker(n: ReturnType<typeof names>, delayMs: number, extra: Partial<KafkaStreamWorkerOptions> = {}): KafkaStreamWorker {
  const w = new KafkaStreamWorker(new HistoryScorer(100, delayMs), testVocabulary(100), {
    brokers: kafkaBrokers(), inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group,
    delivery: 'exactly-once', appId: `${n.group}-w`, codec: new MsgpackCodec(), sessionTimeoutMs: 6_000, ...extra,
  });
  onTestFinished(() => w.close());
  return w;
}

describe.skipIf(kafkaSkipped())('Kafka worker, backpressure and close', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  it('a slow model keeps in-flight records bounded by one fetch and is never evicted from the group', async () => {
    const brokers = kafkaBrokers();
    const n = names('slow');
    await setupTopics(brokers, n, 1);
    await produceEvents(brokers, n.input, new MsgpackCodec(), makeEvents(1_100, 100, 100, 9));
    // A 32 KiB fetch holds ~1,000 of these records; 25-record steps with a 150 ms model call make one batch
    // last longer than the 6 s session timeout, so only the in-batch heartbeats keep the member alive.
    const worker = makeWorker(n, 150, { stepSize: 25, maxFetchBytes: 32 * 1024 });
    // Rejoins once records flow are evictions. (kafkajs also rejoins, without any change of assignment, when a
    // fetch right after topic creation meets stale leader metadata; under load that can happen several times.)
    let rejoinsWhileConsuming = 0;
    worker.on('rebalance', () => { if (worker.stats().records > 0) rejoinsWhileConsuming++; });
    await worker.start();
    expect(await waitFor(() => worker.stats().records >= 1_100, 300_000, 200)).toBe(true);
    const s = worker.stats();
    console.log(`[backpressure] records=${s.records} maxInFlight=${s.maxInFlight} rebalances=${s.rebalances} rejoinsWhileConsuming=${rejoinsWhileConsuming} failedBatches=${s.failedBatches}`);
    // Bounded by one fetch: a v2 record of this size takes ≥ 16 bytes, so 32 KiB hold at most 2,048.
    expect(s.maxInFlight).toBeLessThanOrEqual(2_048);
    expect(s.maxInFlight).toBeGreaterThan(50);
    expect(rejoinsWhileConsuming).toBe(0);
    expect(s.failedBatches).toBe(0);
  });

  it('pause() stops consumption without leaving the group; resume() continues', async () => {
    const brokers = kafkaBrokers();
    const n = names('pause');
    await setupTopics(brokers, n);
    // A session timeout no load here comes near: a rejoin while paused can only mean pause() left the group.
    const worker = makeWorker(n, 0, { sessionTimeoutMs: 30_000 });
    let rejoinsSincePause: number | undefined;
    worker.on('rebalance', () => { if (rejoinsSincePause !== undefined) rejoinsSincePause++; });
    await worker.start();
    await produceEvents(brokers, n.input, new MsgpackCodec(), makeEvents(500, 50, 100, 1));
    expect(await waitFor(() => worker.stats().records >= 500, 300_000)).toBe(true);
    const live = worker.stats().liveSessions;
    rejoinsSincePause = 0;
    worker.pause();
    await produceEvents(brokers, n.input, new MsgpackCodec(), makeEvents(500, 50, 100, 2, 't'));
    await new Promise((r) => setTimeout(r, 2_000));
    expect(worker.stats().records).toBe(500);
    worker.resume();
    expect(await waitFor(() => worker.stats().records >= 1_000, 300_000)).toBe(true);
    expect(rejoinsSincePause).toBe(0);
    // The sessions of the first 500 events were kept: nothing was rebuilt and 50 more sessions are live.
    expect(worker.stats().rebuilt).toBe(0);
    expect(worker.stats().liveSessions).toBe(live + 50);
  });

  it('close() under load finishes the in-flight batch, returns one shared promise, and a restart loses nothing', async () => {
    const brokers = kafkaBrokers();
    const n = names('close');
    await setupTopics(brokers, n);
    const events = makeEvents(8_000, 400, 100, 4);
    const producer = new EventProducer(brokers, n.input, new MsgpackCodec());
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    await producer.send(events.slice(0, 2_000));
    const first = makeWorker(n, 1, { stepSize: 100, maxFetchBytes: 16 * 1024 });
    await first.start();
    // Keep producing while the worker runs, then close mid-stream.
    const feeding = (async () => { for (let i = 2_000; i < events.length; i += 500) await producer.send(events.slice(i, i + 500)); })();
    expect(await waitFor(() => first.stats().records >= 1_500, 300_000, 20)).toBe(true);
    const closing = first.close();
    expect(first.close()).toBe(closing);
    await closing;
    await feeding;
    await expect(first.start()).rejects.toMatchObject({ code: 'CLOSED' });
    const closedAt = first.stats().records;

    const second = makeWorker(n, 0);
    await second.start();
    expect(await waitFor(async () => (await committedLag(brokers, n.group, n.input)) === 0, 300_000, 500)).toBe(true);
    await second.close();
    const v = verify(await readTopic(brokers, n.output, { isolation: 'read_committed' }), await inputOffsets(brokers, n.input));
    console.log(`[close] firstWorker=${closedAt} secondWorker=${second.stats().records} rebuilt=${second.stats().rebuilt} inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated}`);
    expect(v).toMatchObject({ inputs: 8_000, outputs: 8_000, lost: 0, duplicated: 0 });
    expect(closedAt + second.stats().records).toBe(8_000);
  });
});
