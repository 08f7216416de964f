import { InvalidOptionError } from '../../src/errors.js';
import type { Codec } from '../../src/events/codec.js';
import type { EventValidationOptions } from '../../src/events/click-event.js';
import type { Logger } from '../../src/instrumentation/typed-emitter.js';
import type { PipelineOptions } from '../../src/pipeline/pipeline-options.js';
import type { Registry } from 'prom-client';
import { validateConnectionOptions, type KafkaSaslOptions, type KafkaTlsOptions } from './client.js';
import { changelogTopicName } from './changelog.js';
import { COMPRESSION_NAMES, type CompressionName } from './compression.js';

/**
 * Unknown items in the stream: `ignore` (counted; a session's first event answers nothing), `recommend-popular`
 * (a session whose events so far are all unknown is answered with the model's k most frequent training items —
 * the vocabulary's order — marked `fallback: 'popular'`), `error` (the event is dead-lettered, UNKNOWN_ITEM).
 */
export type StreamOovPolicy = 'ignore' | 'recommend-popular' | 'error';
export const STREAM_OOV_POLICIES: readonly StreamOovPolicy[] = ['ignore', 'recommend-popular', 'error'];

/** Pipeline options of the worker: those of {@link PipelineOptions}, with the stream's OOV policies. */
export interface StreamPipelineOptions extends Omit<PipelineOptions, 'oov'> {
  /** @defaultValue 'ignore' */
  readonly oov?: StreamOovPolicy;
}

/** Delivery guarantee of the Kafka worker. */
export type DeliveryMode = 'at-least-once' | 'exactly-once';

/**
 * Options of {@link KafkaStreamWorker}. Only `brokers`, `inputTopic`, `outputTopic` and `groupId` are required.
 * The object is copied at construction and never mutated.
 */
export interface KafkaStreamWorkerOptions {
  /** Bootstrap brokers, e.g. `['127.0.0.1:9092']`. */
  readonly brokers: readonly string[];
  /** Topic of click events (keyed by session id). */
  readonly inputTopic: string;
  /** Topic recommendations are written to (keyed by session id). */
  readonly outputTopic: string;
  /** Topic for undecodable/invalid/oversized input (original bytes + reason header). @defaultValue `${inputTopic}.dlq` */
  readonly deadLetterTopic?: string;
  /** Consumer group id. */
  readonly groupId: string;
  /** Kafka client id (shows up in broker logs; part of the default transactional id). @defaultValue 'nextclick-worker' */
  readonly clientId?: string;
  /** TLS to the brokers: `true` (system CAs) or CA / client certificate and key (mutual TLS). @defaultValue undefined (plaintext) */
  readonly ssl?: boolean | KafkaTlsOptions;
  /** SASL: PLAIN, SCRAM-SHA-256/512 (username, password) or OAUTHBEARER (a token provider). @defaultValue undefined (none) */
  readonly sasl?: KafkaSaslOptions;
  /**
   * Start-up check of `inputTopic`, `outputTopic` and `deadLetterTopic`. Without this option a missing topic
   * fails `start()` with an {@link InvalidOptionError} naming it (a worker started before its output topic
   * existed used to fail every batch for a minute); with it, missing topics are created: `partitions`
   * (default: the input topic's partition count, or 3) and `replicationFactor` (default: the broker's).
   * @defaultValue undefined (check only)
   */
  readonly createTopics?: { readonly partitions?: number; readonly replicationFactor?: number };
  /**
   * `at-least-once`: produce with acks=all, then commit offsets (a crash in between re-emits).
   * `exactly-once`: produce and commit offsets in one transaction; consumers of the output must read
   * with isolation level read_committed. @defaultValue 'at-least-once'
   */
  readonly delivery?: DeliveryMode;
  /**
   * Application id (exactly-once): the same for every worker of the application. Each input partition gets its
   * own transactional producer, id `<appId>-<inputTopic>-<partition>` (the pre-KIP-447 Kafka Streams scheme),
   * initialised when the worker takes the partition: that fences whichever worker had it before (a restarted
   * or paused "zombie" one) and completes its last transaction before the committed offset is read. So any
   * number of workers share a topic, and a zombie cannot commit. @defaultValue groupId
   */
  readonly appId?: string;
  /**
   * Compression of output and dead-letter batches. Input batches of every codec are read whatever this says.
   * @defaultValue 'none'
   */
  readonly compression?: CompressionName;
  /** Wire format of input events; recommendations are written in the same format. Default: msgpack. */
  readonly codec?: Codec;
  /** Largest accepted input message, in bytes; larger ones go to the dead-letter topic. @defaultValue 1 MiB */
  readonly maxMessageBytes?: number;
  /** Event validation bounds (timestamps far in the past/future go to the dead-letter topic). */
  readonly validation?: EventValidationOptions;
  /**
   * Largest timestamp accepted, relative to the worker's wall clock, in ms (clock-skew guard); undefined
   * disables it. @defaultValue 86_400_000 (one day)
   */
  readonly maxFutureMs?: number | undefined;
  /**
   * Oldest timestamp accepted, relative to the worker's wall clock, in ms (older events are dead-lettered as
   * INVALID_EVENT); undefined accepts any age after `validation.minTimestamp` (2000-01-01Z). Set it when a
   * backlog of old events must not be scored. @defaultValue undefined
   */
  readonly maxPastMs?: number | undefined;
  /**
   * State rebuild on partition assignment: re-read up to this many records before the committed offset of
   * each newly assigned partition through the pipeline without emitting, so sessions that moved are rebuilt.
   * 0 disables it (sessions then start empty and are rebuilt from the next events). @defaultValue 5_000
   */
  readonly rebuildRecords?: number;
  /**
   * Session-state changelog (exact state recovery). When on, every delivered batch also writes the state of
   * each session it changed to a compacted topic (a tombstone once the session closed), in the same
   * transaction as the outputs and offsets under exactly-once, before the offset commit under at-least-once;
   * a newly assigned partition is restored from it before its input is processed, so a moved or crashed
   * partition resumes every live session exactly. `rebuildRecords` remains the fallback for a partition the
   * changelog has no state for yet. The topic (default `<appId>-<inputTopic>-changelog`) is checked at start-up
   * like the others (`createTopics` creates it with cleanup.policy=compact and the input's partition count).
   * Off by default: it needs one more topic per input topic on the cluster, and an existing deployment must
   * keep starting after an upgrade. @defaultValue false
   */
  readonly changelog?: boolean | { readonly topic?: string };
  /** Longest restore of one partition from the changelog before the batch fails and is retried, ms. @defaultValue 300_000 */
  readonly changelogRestoreTimeoutMs?: number;
  /** Events handed to the pipeline per step; the worker heartbeats between steps. @defaultValue 500 */
  readonly stepSize?: number;
  /** Bytes fetched per request (bounds memory: at most one fetch is processed at a time). A larger single record is still returned on its own (KIP-74). @defaultValue 1 MiB */
  readonly maxFetchBytes?: number;
  /** Consumer session timeout, ms. @defaultValue 10_000 */
  readonly sessionTimeoutMs?: number;
  /** Consumer heartbeat interval, ms. @defaultValue 1_000 */
  readonly heartbeatIntervalMs?: number;
  /** Start from the earliest offset when the group has no committed offset. @defaultValue true */
  readonly fromBeginning?: boolean;
  /** Pipeline options (k, micro-batch size, sessions, OOV policy...). The worker passes its logger through. */
  readonly pipeline?: StreamPipelineOptions;
  /** prom-client registry to register metrics in; none are created when absent. */
  readonly registry?: Registry;
  /** Prefix of metric names. @defaultValue 'nextclick_' */
  readonly metricsPrefix?: string;
  /** Structured logger (pino-compatible). @defaultValue no-op */
  readonly logger?: Logger;
  /** Longest `close()` waits for the in-flight batch before disconnecting anyway, ms. @defaultValue 30_000 */
  readonly closeTimeoutMs?: number;
  /**
   * Exactly-once: longest wait, after each transaction, for its offsets to become visible to the group before
   * the next batch (a partition taken over in a rebalance before then may see the batch again; a warning is
   * logged), ms. Normally a few ms. @defaultValue 10_000
   */
  readonly commitVisibleTimeoutMs?: number;
}

export const workerDefaults = {
  clientId: 'nextclick-worker',
  delivery: 'at-least-once',
  compression: 'none',
  maxMessageBytes: 1024 * 1024,
  maxFutureMs: 86_400_000,
  rebuildRecords: 5_000,
  stepSize: 500,
  maxFetchBytes: 1024 * 1024,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  fromBeginning: true,
  metricsPrefix: 'nextclick_',
  closeTimeoutMs: 30_000,
  commitVisibleTimeoutMs: 10_000,
  changelogRestoreTimeoutMs: 300_000,
} as const satisfies Partial<KafkaStreamWorkerOptions>;

type Widen<T> = { -readonly [K in keyof T]: T[K] extends string ? string : T[K] extends number ? number : T[K] extends boolean ? boolean : T[K] };
export type ResolvedWorkerOptions = Omit<KafkaStreamWorkerOptions, keyof typeof workerDefaults> & Widen<Omit<typeof workerDefaults, 'delivery' | 'maxFutureMs' | 'compression'>> & {
  compression: CompressionName;
  deadLetterTopic: string;
  appId: string;
  delivery: DeliveryMode;
  maxFutureMs: number | undefined;
  /** The changelog topic, undefined when the changelog is off. */
  changelogTopic: string | undefined;
};

/** Validates (cross-field too) and fills defaults; throws {@link InvalidOptionError} naming the option. */
export function resolveWorkerOptions(o: KafkaStreamWorkerOptions): ResolvedWorkerOptions {
  if (!Array.isArray(o.brokers) || o.brokers.length === 0) throw new InvalidOptionError('brokers', 'brokers must list at least one host:port');
  for (const b of o.brokers) {
    if (typeof b !== 'string' || !/^[^:\s]+:\d+$/.test(b)) throw new InvalidOptionError('brokers', `broker "${String(b)}" is not host:port`);
  }
  for (const k of ['inputTopic', 'outputTopic', 'groupId'] as const) {
    if (typeof o[k] !== 'string' || o[k].length === 0) throw new InvalidOptionError(k, `${k} is required`);
  }
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const r = { ...workerDefaults, ...defined } as ResolvedWorkerOptions;
  r.deadLetterTopic = o.deadLetterTopic ?? `${o.inputTopic}.dlq`;
  r.appId = o.appId ?? o.groupId;
  const cl = o.changelog;
  if (cl !== undefined && typeof cl !== 'boolean' && (cl === null || typeof cl !== 'object')) throw new InvalidOptionError('changelog', 'changelog must be true, false or { topic }');
  if (typeof cl === 'object' && cl.topic !== undefined && (typeof cl.topic !== 'string' || cl.topic.length === 0)) throw new InvalidOptionError('changelog', 'changelog.topic must be a non-empty topic name');
  r.changelogTopic = cl === true ? changelogTopicName(r.appId, o.inputTopic) : typeof cl === 'object' ? cl.topic ?? changelogTopicName(r.appId, o.inputTopic) : undefined;
  if (r.delivery !== 'at-least-once' && r.delivery !== 'exactly-once') throw new InvalidOptionError('delivery', `delivery must be "at-least-once" or "exactly-once", got ${String(r.delivery)}`);
  validateConnectionOptions(r);
  const ct = r.createTopics;
  if (ct !== undefined) {
    if (ct.partitions !== undefined && (!Number.isInteger(ct.partitions) || ct.partitions < 1)) throw new InvalidOptionError('partitions', `createTopics.partitions must be an integer ≥ 1, got ${String(ct.partitions)}`);
    if (ct.replicationFactor !== undefined && (!Number.isInteger(ct.replicationFactor) || ct.replicationFactor < 1)) throw new InvalidOptionError('replicationFactor', `createTopics.replicationFactor must be an integer ≥ 1, got ${String(ct.replicationFactor)}`);
  }
  const oov = r.pipeline?.oov;
  if (oov !== undefined && !STREAM_OOV_POLICIES.includes(oov)) throw new InvalidOptionError('oov', `oov must be one of ${STREAM_OOV_POLICIES.join(', ')}, got ${String(oov)}`);
  if (!COMPRESSION_NAMES.includes(r.compression)) throw new InvalidOptionError('compression', `compression must be one of ${COMPRESSION_NAMES.join(', ')}, got ${String(r.compression)}`);
  if (new Set([r.inputTopic, r.outputTopic, r.deadLetterTopic]).size !== 3) {
    throw new InvalidOptionError('outputTopic', 'inputTopic, outputTopic and deadLetterTopic must be three different topics');
  }
  if (r.changelogTopic !== undefined && [r.inputTopic, r.outputTopic, r.deadLetterTopic].includes(r.changelogTopic)) {
    throw new InvalidOptionError('changelog', `the changelog topic ${r.changelogTopic} must differ from the input, output and dead-letter topics`);
  }
  const positiveInts = ['maxMessageBytes', 'stepSize', 'maxFetchBytes', 'sessionTimeoutMs', 'heartbeatIntervalMs', 'closeTimeoutMs', 'commitVisibleTimeoutMs', 'changelogRestoreTimeoutMs'] as const;
  for (const k of positiveInts) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new InvalidOptionError(k, `${k} must be an integer ≥ 1, got ${String(r[k])}`);
  }
  if (!Number.isInteger(r.rebuildRecords) || r.rebuildRecords < 0) throw new InvalidOptionError('rebuildRecords', `rebuildRecords must be an integer ≥ 0, got ${String(r.rebuildRecords)}`);
  if (r.heartbeatIntervalMs >= r.sessionTimeoutMs) throw new InvalidOptionError('heartbeatIntervalMs', 'heartbeatIntervalMs must be smaller than sessionTimeoutMs');
  if (r.maxFutureMs !== undefined && (!Number.isFinite(r.maxFutureMs) || r.maxFutureMs < 0)) throw new InvalidOptionError('maxFutureMs', 'maxFutureMs must be ≥ 0');
  if (r.maxPastMs !== undefined && (!Number.isFinite(r.maxPastMs) || r.maxPastMs < 0)) throw new InvalidOptionError('maxPastMs', 'maxPastMs must be ≥ 0');
  return r;
}
