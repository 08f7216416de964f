import { randomUUID } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { Admin, Kafka, Message } from 'kafkajs';
import { DecodeError, NextclickError } from '../../src/errors.js';
import type { ItemId } from '../../src/events/click-event.js';
import { MSGPACK_OPTIONS } from '../../src/events/msgpack-codec.js';
import type { Logger } from '../../src/instrumentation/typed-emitter.js';
import type { Sessionizer } from '../../src/sessions/sessionizer.js';
import { decodeEventTimeState, encodeEventTimeState, encodeSessionSnapshot, unpackOne, type EventTimeState } from '../../src/sessions/session-snapshot.js';

/**
 * The session-state changelog of one input topic: a compacted topic, partition i holding the state of input
 * partition i's sessions. Record key = session id, value = a versioned msgpack session snapshot
 * (src/sessions/session-snapshot.ts), null (a tombstone) once the session closed. One more record per
 * partition, with the empty key (session ids are never empty), holds the partition's event-time bookkeeping and
 * the input offset the state corresponds to: its presence says the partition has a changelog at all.
 */
export function changelogTopicName(appId: string, inputTopic: string): string {
  return `${appId}-${inputTopic}-changelog`;
}

/** Key of the per-partition record (never a session id: those are non-empty). */
export const PARTITION_RECORD_KEY = Buffer.alloc(0);

const PARTITION_RECORD_VERSION = 1;
const packr = new Packr(MSGPACK_OPTIONS);

/** The per-partition record: where the input stands and the sessionizer's event-time state. */
export interface PartitionRecord {
  /** The input offset the state includes everything before (the batch's commit offset). */
  readonly inputOffset: bigint;
  readonly eventTime: EventTimeState;
}

/**
 * The changelog records of one delivered batch: every session changed since the last batch (its snapshot, or a
 * tombstone if it closed), then the partition record. Sessions are keyed and partitioned as their input.
 */
export function changelogMessages(sessionizer: Sessionizer, partition: number, inputOffset: string, idOf: (index: number) => ItemId): Message[] {
  const out: Message[] = [];
  for (const key of sessionizer.takeChanges()) {
    const s = sessionizer.get(key);
    out.push({ key, value: s ? encodeSessionSnapshot(s, idOf) : null, partition });
  }
  const value = { v: PARTITION_RECORD_VERSION, inputOffset, eventTime: encodeEventTimeState(sessionizer.eventTimeState()) };
  out.push({ key: PARTITION_RECORD_KEY, value: packr.pack(value), partition });
  return out;
}

/** Throws {@link DecodeError} for bytes that are not a partition record. */
export function decodePartitionRecord(bytes: Uint8Array): PartitionRecord {
  const o = unpackOne(bytes, 'changelog partition record');
  if (o['v'] !== PARTITION_RECORD_VERSION) throw new DecodeError(`changelog partition record version ${String(o['v'])} is not supported (this reader knows ${PARTITION_RECORD_VERSION})`);
  const off = o['inputOffset'];
  if (typeof off !== 'string' || !/^\d+$/.test(off)) throw new DecodeError('changelog partition record: inputOffset must be a decimal string');
  return { inputOffset: BigInt(off), eventTime: decodeEventTimeState(o['eventTime']) };
}

/** The latest value per key of one changelog partition (tombstoned keys removed). */
export interface ChangelogContents {
  /** Session id → snapshot bytes. */
  readonly sessions: Map<string, Buffer>;
  /** The partition record's bytes, or undefined when the partition was never written. */
  readonly partitionRecord: Buffer | undefined;
  /** Records read (before applying tombstones and later versions). */
  readonly records: number;
}

export interface ReadChangelogOptions {
  /** Consumer group id prefix of the throwaway reader (a fresh group per read; nothing is committed). */
  readonly groupPrefix: string;
  /** Fail after this long (ms). */
  readonly timeoutMs: number;
  /**
   * The worker's own group heartbeat, called every `heartbeatIntervalMs` during the restore (joining the
   * throwaway group and reading can outlast the session timeout on a busy machine). If it fails (the group is
   * rebalancing), the restore stops with that error, so the worker can rejoin: a restore that went on would
   * keep the worker out of the group and never finish.
   */
  readonly heartbeat: () => Promise<void>;
  readonly heartbeatIntervalMs: number;
  readonly logger: Logger;
}

/**
 * Reads one partition of a changelog topic from its beginning to its end as of now (read_committed: under
 * exactly-once the caller has already fenced the partition's previous writer, so the end is stable), keeping
 * the latest value per key. kafkajs has no manual partition assignment, so this joins a throwaway consumer group
 * and pauses the topic's other partitions.
 */
export async function readChangelogPartition(kafka: Kafka, admin: Admin, topic: string, partition: number, options: ReadChangelogOptions): Promise<ChangelogContents> {
  const sessions = new Map<string, Buffer>();
  let partitionRecord: Buffer | undefined;
  let records = 0;
  const offsets = await admin.fetchTopicOffsets(topic);
  const range = offsets.find((o) => o.partition === partition);
  if (!range) throw new NextclickError('KAFKA', `changelog topic ${topic} has no partition ${partition}; it needs as many partitions as the input topic`, { context: { topic, partition } });
  const end = BigInt(range.high);
  if (end <= BigInt(range.low)) return { sessions, partitionRecord, records };
  const consumer = kafka.consumer({ groupId: `${options.groupPrefix}-restore-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  let timer: NodeJS.Timeout | undefined;
  let beat: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new NextclickError('KAFKA', `restoring ${topic}[${partition}] took longer than ${options.timeoutMs} ms; the partition is retried`, { retriable: true, context: { topic, partition } })), options.timeoutMs);
      beat = setInterval(() => { options.heartbeat().catch(reject); }, options.heartbeatIntervalMs);
      consumer.connect().then(() => consumer.subscribe({ topics: [topic], fromBeginning: true })).then(() => run(resolve, reject), reject);
    });
  } finally {
    clearTimeout(timer);
    clearInterval(beat);
    await consumer.disconnect().catch((err: unknown) => options.logger.warn({ err, topic, partition }, 'changelog reader disconnect failed'));
  }
  return { sessions, partitionRecord, records };

  function run(resolve: () => void, reject: (err: unknown) => void): void {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const others = (e.payload.memberAssignment[topic] ?? []).filter((p) => p !== partition);
      if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
    });
    // Emitted for batches of records and for batches of control records only (a transaction marker at the
    // end), with the last offset fetched: the position, not the last record, tells the end was reached.
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      if (e.payload.partition === partition && BigInt(e.payload.lastOffset) + 1n >= end) resolve();
    });
    consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.partition !== partition) return;
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= end) break;
          records++;
          const key = m.key;
          if (key === null) continue;
          if (key.length === 0) {
            if (m.value) partitionRecord = m.value;
            continue;
          }
          const id = key.toString('utf8');
          if (m.value === null) sessions.delete(id);
          else sessions.set(id, m.value);
        }
      },
    }).catch(reject);
  }
}
