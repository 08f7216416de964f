import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { registerCompressionCodecs } from './compression.js';

/** One record as read back from a topic, with headers as strings. */
export interface ReadRecord {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

export interface ReadTopicOptions {
  /** `read_committed` skips records of aborted/open transactions. @defaultValue 'read_committed' */
  readonly isolation?: 'read_committed' | 'read_uncommitted';
  /** Stop once every partition reached the high watermark seen at the start, or after this long (ms). @defaultValue 30_000 */
  readonly timeoutMs?: number;
  /** Also stop after this long without a new record (tails of transaction markers), ms. @defaultValue 3_000 */
  readonly idleMs?: number;
}

/**
 * Reads a whole topic from the beginning up to its current end (a verifier for tests and operators). Uses a
 * throwaway consumer group and commits nothing. Bounded in time.
 */
export async function readTopic(brokers: readonly string[], topic: string, options: ReadTopicOptions = {}): Promise<ReadRecord[]> {
  registerCompressionCodecs();
  const kafka = new Kafka({ clientId: 'nextclick-reader', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  // With read_committed the last stable offset is what we can reach; transaction markers take offsets too,
  // so we stop when the consumer's position (not the last record) reaches the end.
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  await admin.disconnect();
  const records: ReadRecord[] = [];
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  if (pending.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `nextclick-reader-${randomUUID()}`, readUncommitted: options.isolation === 'read_uncommitted', maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, options.timeoutMs ?? 30_000);
      // A partition whose tail is a transaction marker never yields a record at `end - 1`; treat a quiet
      // period after the first records as the end as well.
      let lastRecordAt = Number.POSITIVE_INFINITY;
      consumer.on(consumer.events.GROUP_JOIN, () => { lastRecordAt = Date.now(); });
      const idleMs = options.idleMs ?? 3_000;
      const check = () => {
        if (pending.size === 0 || Date.now() - lastRecordAt > idleMs) { clearTimeout(timer); resolve(); }
      };
      consumer.on(consumer.events.FETCH, () => check());
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          lastRecordAt = Date.now();
          for (const m of batch.messages) {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? String(v[0]) : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
            records.push({ partition: batch.partition, offset: m.offset, key: m.key ? m.key.toString('utf8') : null, value: m.value, headers });
          }
          // batch.highWatermark is the LSO under read_committed; reaching our snapshot of the end means done.
          const end = ends.get(batch.partition) ?? 0n;
          if (BigInt(batch.lastOffset()) + 1n >= end) pending.delete(batch.partition);
          check();
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
