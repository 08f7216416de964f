import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { NextclickError } from '../../src/errors.js';
import type { Codec } from '../../src/events/codec.js';
import { decodeRecord } from './decode-record.js';
import type { Logger } from '../../src/instrumentation/typed-emitter.js';
import type { PipelineInput } from '../../src/pipeline/click-pipeline.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/** The kafkajs errors that mean "the group is rebalancing: rejoin" (kafkajs' own test, which it does not export). */
export function isRebalancing(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  return type === 'REBALANCE_IN_PROGRESS' || type === 'NOT_COORDINATOR_FOR_GROUP' || type === 'ILLEGAL_GENERATION';
}

/** Where an input record came from; carried through the pipeline into output headers. */
export interface RecordMeta {
  readonly topic: string;
  readonly partition: number;
  /** Offset as a decimal string (Kafka offsets are int64). */
  readonly offset: string;
  /** Record timestamp (ms), used for end-to-end latency. */
  readonly recordTime: number;
  /** True for records re-read to rebuild state: they go through the pipeline but are never emitted. */
  readonly rebuild: boolean;
}

/** An input record that could not become a ClickEvent; written to the dead-letter topic unchanged. */
export interface DeadLetter {
  readonly meta: RecordMeta;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Error code, e.g. DECODE_FAILED, DECOMPRESS_FAILED, INVALID_EVENT, MESSAGE_TOO_LARGE, UNKNOWN_ITEM. */
  readonly reason: string;
  readonly message: string;
}

/** The decoded form of one input record. */
export type DecodedRecord = { readonly ok: true; readonly input: PipelineInput<RecordMeta> } | { readonly ok: false; readonly deadLetter: DeadLetter };

/** One fetched batch of one partition, handed to the worker. */
export interface SourceBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  /** Offset to commit once this batch is delivered (last offset + 1). */
  readonly commitOffset: string;
  /** Offsets below this are rebuild-only. */
  readonly rebuildUntil: bigint;
  readonly highWatermark: string;
  decode(message: KafkaMessage): DecodedRecord;
  heartbeat(): Promise<void>;
  /** True once a seek or revocation made the rest of this batch obsolete. */
  isStale(): boolean;
  isRunning(): boolean;
}

interface PartitionState {
  checked: boolean;
  rebuildUntil: bigint;
}

/**
 * Consumes click events from one topic in a consumer group (events keyed by session id, so a session stays on
 * one partition), decodes and validates them, and hands whole partition batches to the worker. It rebuilds
 * state on assignment by seeking back `rebuildRecords` before the committed offset of each new partition
 * (records below the committed offset are marked `rebuild`), and reports revoked partitions.
 * Offsets are never auto-committed: the sink commits after delivery (or inside the transaction).
 */
export class KafkaClickSource {
  readonly consumer: Consumer;
  private readonly partitions = new Map<number, PartitionState>();
  private assignment = new Set<number>();

  constructor(
    kafka: Kafka,
    private readonly admin: Admin,
    private readonly opts: ResolvedWorkerOptions,
    private readonly codec: Codec,
    private readonly logger: Logger,
    private readonly onAssignment: (assigned: number[], revoked: number[]) => void,
    /** Runs before the first batch of a newly assigned partition (exactly-once: fence its previous owner). */
    private readonly takeOver: (partition: number) => Promise<void> = async () => {},
    /**
     * Runs next (after `takeOver`): restores the partition's sessions from the changelog and returns the input
     * offset that state corresponds to, or undefined when there is none (then the bounded re-read rebuilds).
     */
    private readonly restore: (partition: number, heartbeat: () => Promise<void>) => Promise<bigint | undefined> = async () => undefined,
  ) {
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs,
      heartbeatInterval: opts.heartbeatIntervalMs,
      maxBytes: opts.maxFetchBytes,
      maxBytesPerPartition: opts.maxFetchBytes,
      // read_committed in both modes: a worker never acts on input from an aborted transaction.
      readUncommitted: false,
      allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assigned = new Set<number>(e.payload.memberAssignment[opts.inputTopic] ?? []);
      const added = [...assigned].filter((p) => !this.assignment.has(p));
      const revoked = [...this.assignment].filter((p) => !assigned.has(p));
      for (const p of revoked) this.partitions.delete(p);
      for (const p of added) this.partitions.set(p, { checked: false, rebuildUntil: -1n });
      this.assignment = assigned;
      this.onAssignment(added, revoked);
    });
  }

  /** Forgets a partition's rebuild state, so its next batch rebuilds from the committed offset again. */
  markForRebuild(partition: number): void {
    this.partitions.set(partition, { checked: false, rebuildUntil: -1n });
  }

  async start(handle: (batch: SourceBatch) => Promise<boolean>): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.opts.inputTopic], fromBeginning: this.opts.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload, handle),
    });
  }

  private async onBatch(payload: EachBatchPayload, handle: (batch: SourceBatch) => Promise<boolean>): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    let state = this.partitions.get(partition);
    if (!state) {
      state = { checked: false, rebuildUntil: -1n };
      this.partitions.set(partition, state);
    }
    if (!state.checked) {
      try {
        await this.takeOver(partition);
        // The first fetch after assignment starts at the committed offset: rewind a bounded amount to rebuild.
        // The previous owner's last transaction may have committed a later offset while this fetch was made
        // (take-over completed it): then start from that one.
        const first = BigInt(batch.firstOffset() ?? '0');
        let committed = first;
        const final = await this.committedOffset(topic, partition);
        const moved = final !== undefined && final > committed;
        if (moved) committed = final;
        const restoredAt = await this.restore(partition, () => payload.heartbeat());
        state.checked = true;
        if (restoredAt !== undefined) {
          // The changelog's state includes every input record before `restoredAt`. Behind the committed offset
          // (the changelog was off for a while): records from there to the committed offset are re-read without
          // emitting. Ahead of it (at-least-once, a crash between the changelog write and the offset commit: the
          // outputs of those records were acknowledged before the changelog was written): input resumes there.
          if (restoredAt < committed) state.rebuildUntil = committed;
          // Ahead: commit it now. Otherwise a partition whose remaining input was all delivered before the crash
          // gets no further batch, so nothing would ever commit past those records (the group's lag stays > 0
          // and the next owner would restore and skip them again).
          if (restoredAt > committed) await this.consumer.commitOffsets([{ topic, partition, offset: restoredAt.toString() }]);
          this.logger.info({ topic, partition, restoredAt: restoredAt.toString(), committed: committed.toString() }, 'session state restored from the changelog');
          if (restoredAt !== first) {
            this.consumer.seek({ topic, partition, offset: restoredAt.toString() });
            return;
          }
        }
        if (restoredAt === undefined && moved && this.opts.rebuildRecords === 0) {
          this.consumer.seek({ topic, partition, offset: committed.toString() });
          return;
        }
        if (restoredAt === undefined && this.opts.rebuildRecords > 0 && committed > 0n) {
          const offsets = await this.admin.fetchTopicOffsets(topic);
          const low = BigInt(offsets.find((o) => o.partition === partition)?.low ?? '0');
          const wanted = committed - BigInt(this.opts.rebuildRecords);
          const seekTo = wanted > low ? wanted : low;
          if (seekTo < committed || moved) {
            state.rebuildUntil = committed;
            this.logger.info({ topic, partition, from: seekTo.toString(), until: committed.toString() }, 'rebuilding session state');
            this.consumer.seek({ topic, partition, offset: seekTo.toString() });
            return;
          }
        }
      } catch (err) {
        // Whatever fails before the partition's first batch (take-over, offset look-ups, changelog restore) must
        // restart the consumer, not stop it: kafkajs treats an error whose deepest cause is not retriable (a
        // producer state error, a retry limit reached during a broker outage) as fatal for every partition. The
        // error handed back is retriable and has no cause chain (the original is logged).
        state.checked = false;
        // A rebalance (a heartbeat refused during the restore) goes to kafkajs as is: it rejoins the group.
        if (isRebalancing(err)) throw err;
        this.logger.error({ err, topic, partition }, 'taking the partition over failed; retrying');
        throw new NextclickError('KAFKA', `taking ${topic}[${partition}] over failed: ${(err as Error).message}`, { retriable: true, context: { topic, partition, causeName: (err as Error).name } });
      }
    }
    const last = batch.lastOffset();
    const processed = await handle({
      topic,
      partition,
      messages: batch.messages,
      commitOffset: (BigInt(last) + 1n).toString(),
      rebuildUntil: state.rebuildUntil,
      highWatermark: batch.highWatermark,
      decode: (m) => this.decode(topic, partition, m, state.rebuildUntil),
      heartbeat: () => payload.heartbeat(),
      isStale: () => payload.isStale(),
      isRunning: () => payload.isRunning(),
    });
    // An unprocessed batch (worker closing) stays unresolved, so it is fetched again rather than skipped.
    if (processed) payload.resolveOffset(last);
  }

  /** The group's committed offset of a partition, or undefined when it has none. */
  private async committedOffset(topic: string, partition: number): Promise<bigint | undefined> {
    const [t] = await this.admin.fetchOffsets({ groupId: this.opts.groupId, topics: [topic] });
    const o = t?.partitions.find((p) => p.partition === partition)?.offset;
    return o === undefined || BigInt(o) < 0n ? undefined : BigInt(o);
  }

  private decode(topic: string, partition: number, m: KafkaMessage, rebuildUntil: bigint): DecodedRecord {
    const meta: RecordMeta = { topic, partition, offset: m.offset, recordTime: Number(m.timestamp), rebuild: BigInt(m.offset) < rebuildUntil };
    return decodeRecord(this.codec, m.value, m.key, meta, this.opts, Date.now(), m.headers);
  }

}
