// Restore time of the session-state changelog (streaming/kafka/changelog.ts): writes N sessions of `--items`
// items each to one changelog partition on a local broker (scripts/kafka), then starts a worker whose
// assignment restores them, and prints the worker's `restore` event (records read, sessions, ms) and the bytes.
// Needs `npx tsc -p tsconfig.build.json` first. Usage: node bench/changelog-restore.mjs --sessions 100000 --items 20
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaBroker } from '../scripts/kafka/broker.mjs';
import { KafkaStreamWorker } from '../dist/streaming/kafka/stream-worker.js';
import { changelogMessages, changelogTopicName } from '../dist/streaming/kafka/changelog.js';
import { createTopics, produceEvents } from '../dist/streaming/kafka/topics.js';
import { MsgpackCodec } from '../dist/src/events/msgpack-codec.js';
import { Sessionizer } from '../dist/src/sessions/sessionizer.js';
import { ItemVocabulary } from '../dist/src/vocab/item-vocabulary.js';

const { values } = parseArgs({ options: { sessions: { type: 'string', default: '100000' }, items: { type: 'string', default: '20' }, brokers: { type: 'string' } } });
const sessions = Number(values.sessions);
const items = Number(values.items);
const broker = values.brokers ? undefined : new KafkaBroker();
if (broker) await broker.start();
const brokers = values.brokers ? values.brokers.split(',') : [broker.brokers];
try {
  const id = randomUUID().slice(0, 8);
  const input = `restore-in-${id}`;
  const group = `restore-g-${id}`;
  const changelog = changelogTopicName(group, input);
  await createTopics(brokers, [{ topic: input, partitions: 1 }, { topic: `${input}-out`, partitions: 1 }, { topic: `${input}.dlq`, partitions: 1 },
    { topic: changelog, partitions: 1, config: { 'cleanup.policy': 'compact' } }]);
  // The sessions a worker would have written: `sessions` sessions of `items` events each.
  const vocab = ItemVocabulary.fromIds(Array.from({ length: 1000 }, (_, i) => i));
  const sz = new Sessionizer({ idleTimeoutMs: 10 * 3_600_000, maxSessions: sessions + 1 });
  sz.trackChanges();
  const t0 = Date.UTC(2024, 0, 1);
  for (let e = 0; e < items; e++) for (let s = 0; s < sessions; s++) sz.ingest({ sessionId: `s${s}`, timestamp: t0 + e * 1000, eventId: `e${s}-${e}` }, (s * 7 + e) % 1000);
  const messages = changelogMessages(sz, 0, '0', (ix) => vocab.idOf(ix));
  const bytes = messages.reduce((t, m) => t + (m.value?.length ?? 0) + Buffer.byteLength(m.key), 0);
  const producer = new Kafka({ clientId: 'restore-bench', brokers, logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 2_000) await producer.send({ topic: changelog, acks: -1, messages: messages.slice(i, i + 2_000) });
  await producer.disconnect();
  const codec = new MsgpackCodec();
  await produceEvents(brokers, input, codec, [{ sessionId: 's1', itemId: 1, timestamp: t0 + items * 1000, eventId: 'x' }]);
  const scorer = { name: 'noop', itemCount: 1000, observe() {}, score: async (ss) => new Float32Array(ss.length * 1000) };
  const worker = new KafkaStreamWorker(scorer, vocab, { brokers, inputTopic: input, outputTopic: `${input}-out`, groupId: group, codec, changelog: true,
    pipeline: { k: 5, sessions: { idleTimeoutMs: 10 * 3_600_000, maxSessions: sessions + 1 } } });
  const restored = new Promise((resolve) => worker.on('restore', resolve));
  await worker.start();
  const r = await restored;
  await worker.close();
  console.log(JSON.stringify({ sessions, itemsPerSession: items, changelogMB: +(bytes / 2 ** 20).toFixed(1), records: r.records, restoredSessions: r.sessions, restoreMs: Math.round(r.ms), load: os.loadavg()[0].toFixed(1), cpus: os.cpus().length }));
} finally {
  await broker?.stop();
}
