// RELIABILITY.md 7: bad input goes to the dead-letter topic with its original bytes and a reason header;
// later good records on the same partition still flow.
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ClickEvent } from '../../../src/events/click-event.js';
import { encodeClickEvent, JsonCodec, type Codec } from '../../../src/events/codec.js';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { RecordHeaders } from '../../../streaming/kafka/headers.js';
import { KafkaStreamWorker } from '../../../streaming/kafka/stream-worker.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { createTopics, EventProducer, type RawRecord } from '../../../streaming/kafka/topics.js';
import { BASE_TIME } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, waitFor } from '../helpers.js';

const good = (i: number): ClickEvent => ({ sessionId: 'dlq-session', itemId: i % 10, timestamp: BASE_TIME + i * 1000, eventId: `g${i}` });

async function run(codec: Codec, bad: { record: RawRecord; reason: string }[]) {
  const brokers = kafkaBrokers();
  const n = names(`dlq-${codec.name}`);
  // One input partition: bad and good records share it, so "the partition never stalls" is observable.
  await createTopics(brokers, [
    { topic: n.input, partitions: 1, config: { 'max.message.bytes': String(3 * 1024 * 1024) } },
    { topic: n.output, partitions: 1 },
    { topic: n.dlq, partitions: 1, config: { 'max.message.bytes': String(3 * 1024 * 1024) } },
  ]);
  const producer = new EventProducer(brokers, n.input, codec);
  await producer.connect();
  const records: RawRecord[] = [];
  const expectedReasons: string[] = [];
  bad.forEach((b, i) => {
    records.push(b.record);
    expectedReasons.push(b.reason);
    records.push({ key: 'dlq-session', value: encodeClickEvent(codec, good(i)) });
  });
  for (const r of records) await producer.sendRaw([r]);
  await producer.disconnect();

  const registry = new Registry();
  const worker = new KafkaStreamWorker(new HistoryScorer(10), testVocabulary(10), {
    brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, codec, registry,
    pipeline: { k: 3, oov: 'error' }, maxFetchBytes: 4 * 1024 * 1024,
  });
  onTestFinished(() => worker.close());
  await worker.start();
  const done = await waitFor(() => worker.stats().records >= records.length, 300_000);
  expect(done, `processed ${worker.stats().records}/${records.length}`).toBe(true);
  await worker.close();

  const dead = await readTopic(brokers, n.dlq);
  const outputs = await readTopic(brokers, n.output);
  console.log(`[dlq ${codec.name}] inputs=${records.length} deadLetters=${dead.length} recommendations=${outputs.length} reasons=${dead.map((d) => d.headers[RecordHeaders.deadLetterReason]).join(',')}`);
  expect(dead.map((d) => d.headers[RecordHeaders.deadLetterReason])).toEqual(expectedReasons);
  dead.forEach((d, i) => {
    const original = bad[i]!.record;
    // Original key and value bytes unchanged, whichever stage rejected the record (UNKNOWN_ITEM: after decoding).
    expect(d.value === null ? null : Buffer.compare(d.value, original.value!)).toBe(original.value === null ? null : 0);
    expect(d.key).toBe(original.key);
    expect(d.headers[RecordHeaders.inputTopic]).toBe(n.input);
    expect(d.headers[RecordHeaders.inputPartition]).toBe('0');
    expect(d.headers[RecordHeaders.inputOffset]).toBe(String(i * 2));
    expect(d.headers[RecordHeaders.deadLetterMessage]!.length).toBeGreaterThan(0);
  });
  // Every good record after a bad one produced a recommendation.
  expect(outputs.map((o) => o.headers[RecordHeaders.inputOffset])).toEqual(bad.map((_, i) => String(i * 2 + 1)));
  expect(worker.stats().deadLetters).toBe(bad.length);
  const m = await registry.getSingleMetricAsString('nextclick_dead_letters_total');
  for (const reason of new Set(expectedReasons)) expect(m).toContain(`reason="${reason}"`);
}

describe.skipIf(kafkaSkipped())('Kafka worker, dead-letter topic', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  it('routes every malformed msgpack record to the DLQ with its reason and keeps the partition flowing', async () => {
    const codec = new MsgpackCodec();
    const raw = (v: unknown): RawRecord => ({ key: 'dlq-session', value: codec.encode(v) });
    const ev = { sessionId: 'x', itemId: 1, timestamp: BASE_TIME };
    await run(codec, [
      { record: { key: 'dlq-session', value: Buffer.from([0xc1, 0x00, 0xff]) }, reason: 'DECODE_FAILED' },
      { record: { key: 'dlq-session', value: Buffer.concat([codec.encode(ev), Buffer.from([0x01])]) }, reason: 'DECODE_FAILED' },
      { record: { key: 'dlq-session', value: null }, reason: 'DECODE_FAILED' },
      { record: raw({ itemId: 1, timestamp: BASE_TIME }), reason: 'INVALID_EVENT' },
      { record: raw({ ...ev, itemId: { nested: true } }), reason: 'INVALID_EVENT' },
      { record: raw({ ...ev, timestamp: 'yesterday' }), reason: 'INVALID_EVENT' },
      { record: raw({ ...ev, timestamp: 12 }), reason: 'INVALID_EVENT' },
      { record: raw({ ...ev, timestamp: Date.now() + 10 * 365 * 86_400_000 }), reason: 'INVALID_EVENT' },
      { record: raw({ ...ev, timestamp: 1e20 }), reason: 'INVALID_EVENT' },
      { record: raw({ ...ev, itemId: 'no-such-item' }), reason: 'UNKNOWN_ITEM' },
      { record: raw({ ...ev, padding: 'x'.repeat(2 * 1024 * 1024) }), reason: 'MESSAGE_TOO_LARGE' },
    ]);
  });

  it('routes malformed JSON to the DLQ', async () => {
    const codec = new JsonCodec();
    const text = (s: string): RawRecord => ({ key: 'dlq-session', value: Buffer.from(s, 'utf8') });
    await run(codec, [
      text('{"sessionId": "x", "itemId": 1,'),
      text('not json at all'),
      text('[1,2,3]'),
      text('{"sessionId": "x", "itemId": 1}'),
      text(''),
    ].map((record, i) => ({ record, reason: i >= 2 && i <= 3 ? 'INVALID_EVENT' : 'DECODE_FAILED' })));
  });
});
