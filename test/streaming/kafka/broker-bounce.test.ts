// RELIABILITY.md 3: kill -9 the broker and restart it during the run; the worker recovers without a restart.
// Plus the combined run: 3 SIGKILLs of a child-process worker and one broker kill -9, exactly-once.
// Exactly-once: 0 duplicates. At-least-once: 0 lost, duplicates counted and reported. Uses its own broker
// (scripts/kafka/broker.mjs) so the shared one is never killed.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { KafkaBroker } from '../../../scripts/kafka/broker.mjs';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { KafkaStreamWorker } from '../../../streaming/kafka/stream-worker.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { committedLag } from '../../../streaming/kafka/topics.js';
import { makeEvents } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { ChildWorker, inputOffsets, KAFKA_TEST_TIMEOUT_MS, names, produceEvents, setupTopics, verify, waitFor } from '../helpers.js';

describe.skipIf(!inject('kafkaCanStartBrokers'))('Kafka worker, broker kill -9 and restart', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  const broker = new KafkaBroker();
  beforeAll(async () => { await broker.start(); }, 300_000);
  afterAll(async () => {
    await broker.stop();
    if (broker.dataDir) rmSync(broker.dataDir, { recursive: true, force: true });
  });

  it.each(['exactly-once', 'at-least-once'] as const)('%s: recovers without a worker restart', async (delivery) => {
    const brokers = [broker.brokers];
    const n = names(`bounce-${delivery}`);
    await setupTopics(brokers, n);
    await produceEvents(brokers, n.input, new MsgpackCodec(), makeEvents(6_000, 300, 100, 3));
    const worker = new KafkaStreamWorker(new HistoryScorer(100, 2), testVocabulary(100), {
      brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, delivery,
      appId: `${n.group}-w`, codec: new MsgpackCodec(), stepSize: 100, maxFetchBytes: 16 * 1024, sessionTimeoutMs: 6_000,
    });
    onTestFinished(() => worker.close());
    let crashes = 0;
    worker.on('crash', () => { crashes++; });
    await worker.start();
    expect(await waitFor(() => worker.stats().records >= 1_000, 300_000, 20)).toBe(true);
    await broker.kill();
    const processedAtKill = worker.stats().records;
    await new Promise((r) => setTimeout(r, 1_000));
    await broker.start();
    const done = await waitFor(async () => (await committedLag(brokers, n.group, n.input).catch(() => -1)) === 0, 300_000, 500);
    expect(done, `worker did not catch up after the bounce: ${JSON.stringify(worker.stats())}`).toBe(true);
    await worker.close();
    const isolation = delivery === 'exactly-once' ? 'read_committed' : 'read_uncommitted';
    const v = verify(await readTopic(brokers, n.output, { isolation }), await inputOffsets(brokers, n.input));
    console.log(`[bounce ${delivery}] processedAtKill=${processedAtKill} failedBatches=${worker.stats().failedBatches} crashes=${crashes} inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated}`);
    expect(v.lost).toBe(0);
    if (delivery === 'exactly-once') expect(v.duplicated).toBe(0);
  });

  it('exactly-once: 3 worker SIGKILLs and a broker kill -9 in one run, 0 lost, 0 duplicated', async () => {
    const brokers = [broker.brokers];
    const n = names('combined');
    await setupTopics(brokers, n);
    await produceEvents(brokers, n.input, new MsgpackCodec(), makeEvents(12_000, 600, 200, 17));
    const cfg = {
      brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, delivery: 'exactly-once',
      appId: `${n.group}-worker`, items: 200, stepSize: 100, maxFetchBytes: 16 * 1024, delayMs: 2,
    };
    const steps: string[] = [];
    const progress = async (w: ChildWorker, batches: number) => {
      const before = w.batches;
      expect(await w.until(() => w.batches >= before + batches, 300_000), `no progress: ${w.stderr.slice(-500)}`).toBe(true);
    };
    for (let k = 0; k < 3; k++) {
      const w = new ChildWorker(cfg);
      await w.ready();
      await progress(w, 3);
      if (k === 1) {
        // Broker kill -9 under a running worker, which must recover on its own before it is killed.
        await broker.kill();
        steps.push('broker-kill-9');
        await new Promise((r) => setTimeout(r, 1_000));
        await broker.start();
        await progress(w, 3);
      }
      expect((await w.kill('SIGKILL')).signal).toBe('SIGKILL');
      steps.push(`worker-SIGKILL@${w.batches}batches`);
    }
    const last = new ChildWorker(cfg);
    await last.ready();
    expect(await waitFor(async () => (await committedLag(brokers, n.group, n.input).catch(() => -1)) === 0, 300_000, 500)).toBe(true);
    expect((await last.kill('SIGTERM')).code).toBe(0);
    const v = verify(await readTopic(brokers, n.output, { isolation: 'read_committed' }), await inputOffsets(brokers, n.input));
    console.log(`[eos combined] ${steps.join(' ')} inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated} outOfOrderSessions=${v.outOfOrderSessions}`);
    expect(v).toMatchObject({ inputs: 12_000, outputs: 12_000, lost: 0, duplicated: 0, outOfOrderSessions: 0 });
  }, 2 * KAFKA_TEST_TIMEOUT_MS); // four crashes and a broker restart: ~40 s idle, minutes on a loaded 2-core machine
});
