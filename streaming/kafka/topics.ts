import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { NextclickError } from '../../src/errors.js';
import type { ClickEvent } from '../../src/events/click-event.js';
import { encodeClickEvent, type Codec } from '../../src/events/codec.js';
import { registerCompressionCodecs } from './compression.js';

function client(brokers: readonly string[], clientId: string): Kafka {
  registerCompressionCodecs();
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 } });
}

/** Creates topics that do not exist yet (replication factor 1 unless given) and waits for their leaders. */
export async function createTopics(
  brokers: readonly string[],
  topics: readonly { topic: string; partitions?: number; replicationFactor?: number; config?: Record<string, string> }[],
): Promise<void> {
  const admin = client(brokers, 'nextclick-admin').admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: false,
      topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions ?? 3, replicationFactor: t.replicationFactor ?? 1,
        configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })) })),
    });
    await waitForLeaders(admin, topics.map((t) => t.topic));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until every partition of `topics` has a leader. kafkajs' own `waitForLeaders` retries only
 * LEADER_NOT_AVAILABLE, but a just-created topic can also be unknown to the broker for a moment
 * (UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition": seen on a loaded 2-core
 * machine, where it failed five tests' set-up at once); both are retried here, up to `timeoutMs`.
 */
export async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let reason: string;
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
      const leaderless = meta.topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
      if (leaderless.length === 0 && meta.topics.length === topics.length) return;
      reason = `no leader yet for ${leaderless.map((t) => t.name).join(', ') || 'some topics'}`;
    } catch (err) {
      const type = (err as { type?: unknown }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
      reason = (err as Error).message;
    }
    if (Date.now() > deadline) throw new NextclickError('KAFKA', `topics ${topics.join(', ')} have no leader after ${timeoutMs} ms (${reason}); check the brokers`, { retriable: true, context: { topics } });
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A raw record for {@link EventProducer.sendRaw}: bytes as they are (tests, load generators, DLQ replays). */
export interface RawRecord {
  readonly key: string | Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Record<string, string>;
}

/**
 * Writes click events keyed by session id (so a session stays on one partition), acks=all, idempotent.
 * Used by `nextclick replay --to-kafka`, the benchmark and the tests.
 */
export class EventProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(brokers: readonly string[], private readonly topic: string, private readonly codec: Codec, clientId = 'nextclick-replay') {
    this.producer = client(brokers, clientId).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Sends events in one request per call; resolves once all are acknowledged by the broker. */
  async send(events: readonly ClickEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.sendRaw(events.map((e) => ({ key: e.sessionId, value: encodeClickEvent(this.codec, e), headers: { 'content-type': this.codec.contentType } })));
  }

  async sendRaw(records: readonly RawRecord[]): Promise<void> {
    if (!this.connected) throw new NextclickError('KAFKA', 'EventProducer.connect() must be called before sending');
    if (records.length === 0) return;
    await this.producer.send({ topic: this.topic, acks: -1, messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })) });
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }
}

/** Convenience: connect, send all events in chunks, disconnect. */
export async function produceEvents(brokers: readonly string[], topic: string, codec: Codec, events: readonly ClickEvent[], chunk = 1_000): Promise<void> {
  const p = new EventProducer(brokers, topic, codec);
  await p.connect();
  try {
    for (let i = 0; i < events.length; i += chunk) await p.send(events.slice(i, i + chunk));
  } finally {
    await p.disconnect();
  }
}

/** Records of `topic` not yet committed by `groupId` (sum over partitions; uncommitted partitions count from the low watermark). */
export async function committedLag(brokers: readonly string[], groupId: string, topic: string): Promise<number> {
  const admin = client(brokers, 'nextclick-admin').admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    let lag = 0n;
    for (const e of ends) {
      const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
      const from = BigInt(c) < 0n ? BigInt(e.low) : BigInt(c);
      lag += BigInt(e.high) - from;
    }
    return Number(lag);
  } finally {
    await admin.disconnect();
  }
}
