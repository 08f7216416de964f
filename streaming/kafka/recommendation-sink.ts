import { type CompressionTypes, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { NextclickError } from '../../src/errors.js';
import { SCHEMA_VERSION, type Codec } from '../../src/events/codec.js';
import type { Logger } from '../../src/instrumentation/typed-emitter.js';
import type { SessionRecommendation } from '../../src/pipeline/click-pipeline.js';
import type { DeadLetter, RecordMeta } from './click-source.js';
import { compressionType, loadCompression } from './compression.js';
import { RecordHeaders } from './headers.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/** The value of an output record (encoded with the worker's codec). */
export interface RecommendationRecord {
  readonly v: number;
  readonly sessionId: string;
  readonly items: (string | number)[];
  readonly scores: number[];
  readonly modelVersion: string;
  /** Event time (ms) of the click that triggered this recommendation. */
  readonly eventTime: number;
  /** Set when the items are not the model's answer for the session: `popular` (oov: 'recommend-popular'). */
  readonly fallback?: 'popular';
}

/**
 * Largest produce request the sink builds, in bytes (estimated from keys, values and headers). A fetched batch
 * of small click events turns into much larger recommendation records; one request per batch would exceed the
 * broker's `message.max.bytes` (1 MiB by default) and request timeouts on slow machines.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

function size(v: unknown): number {
  if (v === null || v === undefined) return 0;
  return Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v));
}

/** Splits topic messages into produce requests of at most ~`limit` bytes (a larger single record goes alone). */
export function chunkRequests(topicMessages: readonly TopicMessages[], limit: number): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current = new Map<string, Message[]>();
  let bytes = 0;
  const close = () => {
    if (current.size > 0) requests.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    bytes = 0;
  };
  for (const t of topicMessages) {
    for (const m of t.messages) {
      let s = size(m.key) + size(m.value) + 70;
      for (const [k, v] of Object.entries(m.headers ?? {})) s += k.length + size(v);
      if (bytes > 0 && bytes + s > limit) close();
      let list = current.get(t.topic);
      if (!list) current.set(t.topic, (list = []));
      list.push(m);
      bytes += s;
    }
  }
  close();
  return requests;
}

/** Offsets to commit with a delivery: the input partition's next offset. */
export interface CommitPoint {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * Writes recommendations (keyed by session id) and dead letters. `deliver` is the commit point of the worker:
 * - at-least-once: one idempotent send with acks=all, then the consumer offsets are committed by the caller;
 * - exactly-once: one transaction holding the records and the consumer offsets (sendOffsets), committed
 *   atomically; consumers reading read_committed see each input's output exactly once.
 * After a failed delivery the producer is replaced (a fenced or broken transactional producer cannot be
 * reused); the caller re-reads from the last committed offset.
 */
export class KafkaRecommendationSink {
  /** Connected producers: exactly-once, one per input partition; at-least-once, one shared (key -1). */
  private readonly producers = new Map<number, Promise<Producer>>();
  private readonly compression: CompressionTypes;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: ResolvedWorkerOptions,
    private readonly codec: Codec,
    private readonly logger: Logger,
  ) {
    this.compression = compressionType(opts.compression);
  }

  get exactlyOnce(): boolean {
    return this.opts.delivery === 'exactly-once';
  }

  /** The transactional id of an input partition's producer: `<appId>-<inputTopic>-<partition>`. */
  transactionalIdFor(partition: number): string {
    return `${this.opts.appId}-${this.opts.inputTopic}-${partition}`;
  }

  /** Checks the output codec and, at-least-once, connects the shared producer; fails fast on bad brokers. */
  async connect(): Promise<void> {
    // An output codec that cannot load on this platform fails the start, not every batch.
    if (this.opts.compression !== 'none') await loadCompression(this.opts.compression);
    if (!this.exactlyOnce) await this.getProducer(-1);
  }

  /**
   * Exactly-once, before the first batch of a newly assigned input partition is processed: (re)initialises
   * the partition's transactional id. InitProducerId fences the partition's previous owner (a restarted
   * worker's predecessor, or a zombie evicted by a session timeout) and waits until its last transaction is
   * complete (markers written, offsets committed), so the committed offset read next is final.
   */
  async takeOver(partition: number): Promise<void> {
    if (!this.exactlyOnce) return;
    await this.release(partition);
    const txn = await (await this.getProducer(partition)).transaction();
    await txn.abort();
  }

  /** Disconnects an input partition's producer (revoked, or broken by a failed delivery). */
  async release(partition: number): Promise<void> {
    const p = this.producers.get(partition);
    if (!p) return;
    this.producers.delete(partition);
    await (await p.catch(() => undefined))?.disconnect().catch((err: unknown) => this.logger.warn({ err, partition }, 'producer disconnect failed'));
  }

  recommendationMessage(rec: SessionRecommendation, meta: RecordMeta, fallback?: 'popular'): Message {
    const value: RecommendationRecord = {
      v: SCHEMA_VERSION, sessionId: rec.sessionId, items: rec.items, scores: rec.scores, modelVersion: rec.modelVersion, eventTime: rec.eventTime,
      ...(fallback ? { fallback } : {}),
    };
    return { key: rec.sessionId, value: this.codec.encode(value), headers: this.inputHeaders(meta) };
  }

  deadLetterMessage(d: DeadLetter): Message {
    return {
      key: d.key,
      value: d.value,
      headers: {
        ...this.inputHeaders(d.meta),
        [RecordHeaders.deadLetterReason]: d.reason,
        // Header values are bounded: a reason must not turn a 2 MB record into a 4 MB one.
        [RecordHeaders.deadLetterMessage]: d.message.slice(0, 500),
      },
    };
  }

  /**
   * Sends the records and commits `commit` (in the transaction for exactly-once). `changelog` (session state)
   * goes in the same transaction under exactly-once; under at-least-once it is sent after the records are
   * acknowledged and before the offsets are committed, so state the changelog holds is never ahead of
   * delivered output (a crash in between leaves the changelog ahead of the committed offset, and the restore
   * resumes input where the changelog stands).
   */
  async deliver(topicMessages: TopicMessages[], commit: CommitPoint, commitOffsets: () => Promise<void>, changelog?: TopicMessages): Promise<void> {
    const requests = chunkRequests(topicMessages, MAX_REQUEST_BYTES);
    const changelogRequests = changelog && changelog.messages.length > 0 ? chunkRequests([changelog], MAX_REQUEST_BYTES) : [];
    const key = this.exactlyOnce ? commit.partition : -1;
    try {
      const producer = await this.getProducer(key);
      if (!this.exactlyOnce) {
        for (const r of requests) await producer.sendBatch({ topicMessages: r, acks: -1, compression: this.compression });
        for (const r of changelogRequests) await producer.sendBatch({ topicMessages: r, acks: -1, compression: this.compression });
        await commitOffsets();
        return;
      }
      const txn = await producer.transaction();
      try {
        for (const r of [...requests, ...changelogRequests]) await txn.sendBatch({ topicMessages: r, acks: -1, compression: this.compression });
        await txn.sendOffsets({
          consumerGroupId: this.opts.groupId,
          topics: [{ topic: commit.topic, partitions: [{ partition: commit.partition, offset: commit.offset }] }],
        });
        await txn.commit();
      } catch (err) {
        await txn.abort().catch((abortErr: unknown) => this.logger.warn({ err: abortErr }, 'transaction abort failed'));
        throw err;
      }
    } catch (err) {
      // A fenced or broken transactional producer cannot be reused.
      await this.release(key);
      throw new NextclickError('KAFKA', `delivery to ${this.opts.outputTopic} failed: ${(err as Error).message}`, {
        cause: err, retriable: true, context: { topic: commit.topic, partition: commit.partition, offset: commit.offset },
      });
    }
  }

  async disconnect(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    const results = await Promise.allSettled(all.map(async (p) => (await p).disconnect()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private getProducer(key: number): Promise<Producer> {
    let connecting = this.producers.get(key);
    if (connecting) return connecting;
    connecting = (async () => {
      const p = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        ...(this.exactlyOnce ? { transactionalId: this.transactionalIdFor(key), transactionTimeout: 60_000 } : {}),
        // A transaction started right after the previous commit gets CONCURRENT_TRANSACTIONS until the broker has
        // written the markers (milliseconds); a 200 ms first backoff put ~150 ms on every exactly-once batch.
        retry: { retries: 12, initialRetryTime: 10, maxRetryTime: 5_000 },
      });
      await p.connect();
      return p;
    })();
    this.producers.set(key, connecting);
    connecting.catch(() => { if (this.producers.get(key) === connecting) this.producers.delete(key); });
    return connecting;
  }

  private inputHeaders(meta: RecordMeta): Record<string, string> {
    return {
      [RecordHeaders.inputTopic]: meta.topic,
      [RecordHeaders.inputPartition]: String(meta.partition),
      [RecordHeaders.inputOffset]: meta.offset,
      [RecordHeaders.inputTimestamp]: String(meta.recordTime),
      [RecordHeaders.schemaVersion]: String(SCHEMA_VERSION),
      [RecordHeaders.contentType]: this.codec.contentType,
    };
  }
}
