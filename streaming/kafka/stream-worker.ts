import type { Admin, ConfigResourceTypes, Kafka, KafkaMessage, Message } from 'kafkajs';
import { ClosedError, DecodeError, InvalidOptionError, NextclickError } from '../../src/errors.js';
import { MsgpackCodec } from '../../src/events/msgpack-codec.js';
import { noopLogger, TypedEmitter, type Logger } from '../../src/instrumentation/typed-emitter.js';
import { ClickPipeline, type PipelineInput, type PipelineOutput, type SessionRecommendation } from '../../src/pipeline/click-pipeline.js';
import type { PipelineOptions } from '../../src/pipeline/pipeline-options.js';
import { OOV } from '../../src/vocab/item-vocabulary.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import type { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';
import { decodeSessionSnapshot } from '../../src/sessions/session-snapshot.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { StreamMetrics } from '../metrics.js';
import { changelogMessages, decodePartitionRecord, readChangelogPartition } from './changelog.js';
import { createKafkaClient } from './client.js';
import { registerCompressionCodecs } from './compression.js';
import { KafkaClickSource, type DeadLetter, type RecordMeta, type SourceBatch } from './click-source.js';
import { KafkaRecommendationSink } from './recommendation-sink.js';
import { waitForLeaders } from './topics.js';
import { resolveWorkerOptions, type KafkaStreamWorkerOptions, type ResolvedWorkerOptions } from './worker-options.js';

/** `ConfigResourceTypes.TOPIC`: kafkajs is CommonJS and its enums are not named ESM exports. */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

export interface StreamWorkerEvents {
  /** A partition batch was delivered (and its offsets committed). */
  'batch:delivered': { readonly topic: string; readonly partition: number; readonly firstOffset: string; readonly commitOffset: string; readonly records: number; readonly recommendations: number; readonly deadLetters: number; readonly rebuilt: number };
  /** The group assigned/revoked partitions. Sessions of revoked partitions were dropped. */
  'rebalance': { readonly assigned: number[]; readonly revoked: number[]; readonly droppedSessions: number };
  /**
   * A newly assigned partition's sessions were restored from the changelog (`fallback: false`), or it had no
   * changelog state and the bounded re-read rebuilds them (`fallback: true`).
   */
  'restore': { readonly partition: number; readonly sessions: number; readonly records: number; readonly corrupt: number; readonly ms: number; readonly inputOffset: string | undefined; readonly fallback: boolean };
  /** One input record went to the dead-letter topic. */
  'dead-letter': { readonly reason: string; readonly message: string; readonly partition: number; readonly offset: string };
  /**
   * A batch failed and the consumer restarts from the last committed offset (`fatal: false`), or the Kafka
   * client gave up (`fatal: true`): the worker no longer consumes; close it and exit so a supervisor restarts it.
   */
  'crash': { readonly error: unknown; readonly partition: number | undefined; readonly fatal: boolean };
}

export interface StreamWorkerStats {
  records: number;
  recommendations: number;
  deadLetters: number;
  rebuilt: number;
  rebalances: number;
  failedBatches: number;
  /** Largest number of fetched-but-undelivered records seen (memory bound check). */
  maxInFlight: number;
  /** Records written to the changelog (sessions, tombstones and partition records). */
  changelogRecords: number;
  /** Partitions restored from the changelog, sessions restored, and the time taken (ms, summed). */
  restores: number;
  restoredSessions: number;
  restoreMs: number;
  /** Changelog records that could not be decoded on restore (skipped, logged). */
  corruptChangelogRecords: number;
}

/**
 * Kafka worker: KafkaClickSource → decode/validate → the shared {@link ClickPipeline} → KafkaRecommendationSink.
 * Installs no signal handlers: the application calls {@link close} (see examples/kafka-worker.ts).
 *
 * State on rebalance: sessions of revoked partitions are dropped; newly assigned partitions are rebuilt by
 * re-reading up to `rebuildRecords` records before the committed offset without emitting.
 * Backpressure: the fetch loop awaits each batch's processing and delivery, so at most one fetch
 * (`maxFetchBytes`) is in memory; the worker heartbeats between pipeline steps so a slow model does not get
 * the member evicted. `pause()`/`resume()` stop fetching without leaving the group.
 */
export class KafkaStreamWorker extends TypedEmitter<StreamWorkerEvents> {
  /**
   * One ClickPipeline (sessionizer + event-time watermark) per assigned partition: sessions never span
   * partitions (input is keyed by session id), and a per-partition watermark keeps idle expiry independent
   * of how far other partitions have progressed — the same results as one worker reading each partition alone.
   */
  private readonly pipelines = new Map<number, ClickPipeline>();
  private scorer: Scorer;
  private vocabulary: ItemVocabulary;
  private modelVersion: string | undefined;
  readonly options: ResolvedWorkerOptions;
  private readonly logger: Logger;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly source: KafkaClickSource;
  private readonly sink: KafkaRecommendationSink;
  private readonly metrics: StreamMetrics | undefined;
  private readonly counters: StreamWorkerStats = {
    records: 0, recommendations: 0, deadLetters: 0, rebuilt: 0, rebalances: 0, failedBatches: 0, maxInFlight: 0,
    changelogRecords: 0, restores: 0, restoredSessions: 0, restoreMs: 0, corruptChangelogRecords: 0,
  };
  private started = false;
  /** The consumer runs (start() got that far); pausing an unstarted consumer throws. */
  private consuming = false;
  private closing: Promise<void> | undefined;
  private stepChain: Promise<unknown> = Promise.resolve();
  /** The batch being processed/delivered, so close() can wait for it before leaving the group. */
  private inFlight: Promise<void> | undefined;

  constructor(scorer: Scorer, vocabulary: ItemVocabulary, options: KafkaStreamWorkerOptions) {
    super((err, event) => this.logger.error({ err, event }, 'stream worker listener threw'));
    this.options = resolveWorkerOptions(options);
    this.logger = options.logger ?? noopLogger;
    const codec = options.codec ?? new MsgpackCodec();
    this.scorer = scorer;
    this.vocabulary = vocabulary;
    this.modelVersion = options.pipeline?.modelVersion;
    // Validate pipeline options now rather than at the first batch.
    new ClickPipeline(scorer, vocabulary, this.pipelineOptions());
    this.metrics = options.registry ? new StreamMetrics(options.registry, this.options.metricsPrefix) : undefined;
    registerCompressionCodecs();
    this.kafka = createKafkaClient(this.options, this.options.clientId);
    this.admin = this.kafka.admin();
    this.sink = new KafkaRecommendationSink(this.kafka, this.options, codec, this.logger);
    this.source = new KafkaClickSource(this.kafka, this.admin, this.options, codec, this.logger, (a, r) => this.onAssignment(a, r), (p) => this.sink.takeOver(p),
      this.options.changelogTopic === undefined ? undefined : (p, heartbeat) => this.restore(p, heartbeat));
    this.source.consumer.on(this.source.consumer.events.CRASH, (e) => {
      if (e.payload.restart) return;
      this.logger.error({ err: e.payload.error }, 'Kafka consumer crashed and will not restart');
      if (this.hasListeners('crash')) this.emit('crash', { error: e.payload.error, partition: undefined, fatal: true });
    });
  }

  /** Worker counters plus the live sessions of each partition's pipeline. */
  stats(): StreamWorkerStats & { liveSessions: number; partitions: number[] } {
    let live = 0;
    for (const p of this.pipelines.values()) live += p.sessionizer.size;
    return { ...this.counters, liveSessions: live, partitions: [...this.pipelines.keys()].sort((a, b) => a - b) };
  }

  /** Connects, joins the group and starts consuming. Resolves once running; refuses to run twice. */
  async start(): Promise<void> {
    if (this.closing) throw new ClosedError('KafkaStreamWorker');
    if (this.started) throw new NextclickError('INTERNAL', 'KafkaStreamWorker.start() was already called; create a new worker to restart');
    this.started = true;
    await this.admin.connect();
    await this.ensureTopics();
    await this.sink.connect();
    await this.source.start((b) => this.handleBatch(b));
    this.consuming = true;
    this.logger.info({ topic: this.options.inputTopic, group: this.options.groupId, delivery: this.options.delivery }, 'stream worker started');
  }

  /** The start-up topic check (see `createTopics`). */
  private async ensureTopics(): Promise<void> {
    const o = this.options;
    const existing = new Set(await this.admin.listTopics());
    const roles: [string, string][] = [[o.inputTopic, 'inputTopic'], [o.outputTopic, 'outputTopic'], [o.deadLetterTopic, 'deadLetterTopic']];
    if (o.changelogTopic !== undefined) roles.push([o.changelogTopic, 'changelog']);
    const missing = roles.filter(([t]) => !existing.has(t));
    if (missing.length === 0) return this.checkChangelogTopic();
    const list = missing.map(([t, role]) => `${t} (${role})`).join(', ');
    if (!o.createTopics) {
      throw new InvalidOptionError('topics', `topics missing on the cluster: ${list}; create them, or let the worker create them (CLI --create-topics, library option createTopics)`, { context: { missing: missing.map(([t]) => t) } });
    }
    let partitions = o.createTopics.partitions;
    if (partitions === undefined && existing.has(o.inputTopic)) {
      const meta = await this.admin.fetchTopicMetadata({ topics: [o.inputTopic] });
      partitions = meta.topics[0]?.partitions.length;
    }
    await this.admin.createTopics({
      waitForLeaders: false,
      topics: missing.map(([topic]) => ({
        topic, numPartitions: partitions ?? 3, replicationFactor: o.createTopics?.replicationFactor ?? -1,
        ...(topic === o.changelogTopic ? { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] } : {}),
      })),
    });
    await waitForLeaders(this.admin, missing.map(([t]) => t));
    this.logger.info({ created: missing.map(([t]) => t), partitions: partitions ?? 3 }, 'created missing topics');
    await this.checkChangelogTopic();
  }

  /**
   * The changelog must be compacted (with cleanup.policy=delete, state older than the retention would vanish
   * and live sessions restart empty) and have a partition for each input partition.
   */
  private async checkChangelogTopic(): Promise<void> {
    const topic = this.options.changelogTopic;
    if (topic === undefined) return;
    const meta = await this.admin.fetchTopicMetadata({ topics: [this.options.inputTopic, topic] });
    const count = (t: string) => meta.topics.find((x) => x.name === t)?.partitions.length ?? 0;
    if (count(topic) < count(this.options.inputTopic)) {
      throw new InvalidOptionError('changelog', `changelog topic ${topic} has ${count(topic)} partitions, fewer than the ${count(this.options.inputTopic)} of ${this.options.inputTopic}; add partitions to it (kafka-topics --alter --partitions) or name another one`);
    }
    const configs = await this.admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['cleanup.policy'] }] });
    const policy = configs.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? '';
    if (!policy.split(',').includes('compact')) {
      throw new InvalidOptionError('changelog', `changelog topic ${topic} has cleanup.policy=${policy || 'delete'}; it must be compacted (kafka-configs --alter --add-config cleanup.policy=compact), or session state older than the retention is lost`);
    }
  }

  /** Stops fetching without leaving the group (in-flight work finishes). */
  pause(): void {
    this.source.consumer.pause([{ topic: this.options.inputTopic }]);
  }

  resume(): void {
    this.source.consumer.resume([{ topic: this.options.inputTopic }]);
  }

  /** Hot swap: the next pipeline step uses the new model; no step mixes two models. Returns the old scorer. */
  swapModel(scorer: Scorer, vocabulary: ItemVocabulary, modelVersion?: string): Promise<Scorer> {
    return this.exclusive(async () => {
      for (const p of this.pipelines.values()) await p.swapModel(scorer, vocabulary, modelVersion);
      const old = this.scorer;
      this.scorer = scorer;
      this.vocabulary = vocabulary;
      this.modelVersion = modelVersion;
      return old;
    });
  }

  /**
   * Graceful close: stop fetching and finish the in-flight batch (its delivery and commit), close the pipeline,
   * disconnect. Every step runs even if an earlier one throws; the first error is rethrown at the end.
   * Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const errors: unknown[] = [];
    const step = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
        this.logger.error({ err, step: name }, 'stream worker close step failed');
      }
    };
    const timeout = <T>(p: Promise<T>) => {
      let timer: NodeJS.Timeout | undefined;
      const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new NextclickError('KAFKA', `close step exceeded ${this.options.closeTimeoutMs} ms`)), this.options.closeTimeoutMs); });
      return Promise.race([p, t]).finally(() => clearTimeout(timer));
    };
    // Finish the in-flight batch (delivery and offset commit) while still a group member, then stop fetching.
    // Batches handed over after this point are not processed (they are re-read by the next owner).
    await step('finish in-flight batch', () => timeout(this.inFlight ?? Promise.resolve()));
    // Best effort: kafkajs refuses to pause while it restarts the consumer (no consumer group then: "Consumer
    // group was not initialized"), and stopping it next ends fetching anyway; that must not fail close().
    try {
      if (this.consuming) this.pause();
    } catch (err) {
      this.logger.warn({ err }, 'pausing before close failed; stopping the consumer anyway');
    }
    await step('stop consumer', () => timeout(this.source.consumer.stop()));
    await step('close pipelines', () => timeout(this.stepChain.then(async () => {
      for (const p of this.pipelines.values()) await p.close();
    })));
    await step('disconnect consumer', () => timeout(this.source.consumer.disconnect()));
    await step('disconnect producer', () => timeout(this.sink.disconnect()));
    await step('disconnect admin', () => timeout(this.admin.disconnect()));
    this.logger.info({ ...this.counters }, 'stream worker closed');
    if (errors.length > 0) throw errors[0];
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.stepChain.then(fn, fn);
    this.stepChain = run.catch(() => undefined);
    return run;
  }

  private onAssignment(assigned: number[], revoked: number[]): void {
    this.counters.rebalances++;
    this.metrics?.rebalances.inc();
    let dropped = 0;
    if (revoked.length > 0) dropped = this.dropSessions(new Set(revoked));
    for (const p of revoked) void this.sink.release(p);
    this.logger.info({ assigned, revoked, droppedSessions: dropped }, 'partitions assigned');
    if (this.hasListeners('rebalance')) this.emit('rebalance', { assigned, revoked, droppedSessions: dropped });
  }

  private dropSessions(partitions: Set<number>): number {
    let n = 0;
    for (const p of partitions) {
      n += this.pipelines.get(p)?.sessionizer.size ?? 0;
      this.pipelines.delete(p);
    }
    return n;
  }

  private handleBatch(batch: SourceBatch): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    const run = this.processBatch(batch);
    this.inFlight = run.then(() => undefined, () => undefined);
    return run.then(() => true);
  }

  private async processBatch(batch: SourceBatch): Promise<void> {
    const { topic, partition } = batch;
    const inFlight = batch.messages.length;
    this.counters.maxInFlight = Math.max(this.counters.maxInFlight, inFlight);
    this.metrics?.inFlight.set(inFlight);
    const out: Message[] = [];
    const dead: { offset: bigint; message: Message }[] = [];
    const recordTimes: number[] = [];
    let rebuilt = 0;
    try {
      for (let start = 0; start < batch.messages.length; start += this.options.stepSize) {
        if (batch.isStale()) return this.discard(partition);
        const chunk = batch.messages.slice(start, start + this.options.stepSize);
        const byOffset = new Map<string, KafkaMessage>();
        for (const m of chunk) byOffset.set(m.offset, m);
        const inputs: PipelineInput<RecordMeta>[] = [];
        for (const m of chunk) {
          const d = batch.decode(m);
          if (d.ok) {
            inputs.push(d.input);
          } else if (d.deadLetter.meta.rebuild) rebuilt++;
          else dead.push({ offset: BigInt(m.offset), message: this.deadLetter(d.deadLetter) });
        }
        const pipeline = this.pipelineFor(partition);
        const outputs = await this.exclusive(() => pipeline.process(inputs));
        for (const o of outputs) {
          if (o.meta.rebuild) { rebuilt++; continue; }
          if (o.error) {
            // Dead letters carry the record's original key and value bytes, whichever stage rejected it.
            const original = byOffset.get(o.meta.offset);
            dead.push({ offset: BigInt(o.meta.offset), message: this.deadLetter({ meta: o.meta, key: original?.key ?? null, value: original?.value ?? null, reason: o.error.code, message: o.error.message }) });
            continue;
          }
          const rec = o.recommendation ?? this.popularFallback(o);
          if (rec) {
            out.push(this.sink.recommendationMessage(rec, o.meta, o.recommendation ? undefined : 'popular'));
            recordTimes.push(o.meta.recordTime);
          }
        }
        await batch.heartbeat();
      }
      if (batch.isStale()) return this.discard(partition);
      // A batch made only of rebuild records has nothing to emit, and committing its offset would move the
      // group's committed offset backwards (re-emitting everything after it on the next restart).
      if (BigInt(batch.commitOffset) > batch.rebuildUntil) await this.deliver(batch, out, dead);
    } catch (err) {
      this.counters.failedBatches++;
      this.discard(partition);
      this.logger.error({ err, topic, partition }, 'batch failed; re-reading from the last committed offset');
      if (this.hasListeners('crash')) this.emit('crash', { error: err, partition, fatal: false });
      // kafkajs restarts the consumer only when the deepest `cause` is marked retriable, so the error handed
      // back carries no cause chain (the original is logged above and named in the message).
      throw new NextclickError('KAFKA', `batch ${topic}[${partition}] failed, re-reading from the last committed offset: ${(err as Error).message}`, {
        retriable: true, context: { topic, partition, causeName: (err as Error).name },
      });
    }
    const records = batch.messages.length;
    this.counters.records += records - rebuilt;
    this.counters.rebuilt += rebuilt;
    this.counters.recommendations += out.length;
    this.counters.deadLetters += dead.length;
    if (this.metrics) {
      const now = Date.now();
      for (const t of recordTimes) this.metrics.latency.observe(Math.max(0, now - t) / 1000);
      this.metrics.recommendations.inc(out.length);
      this.metrics.events.inc({ outcome: 'scored' }, out.length);
      this.metrics.events.inc({ outcome: 'dead_letter' }, dead.length);
      this.metrics.events.inc({ outcome: 'rebuild' }, rebuilt);
      this.metrics.events.inc({ outcome: 'skipped' }, Math.max(0, records - rebuilt - out.length - dead.length));
      this.metrics.lag.set({ topic, partition: String(partition) }, Number(BigInt(batch.highWatermark) - BigInt(batch.commitOffset)));
      this.metrics.inFlight.set(0);
      let live = 0;
      for (const p of this.pipelines.values()) live += p.sessionizer.size;
      this.metrics.liveSessions.set(live);
    }
    if (this.hasListeners('batch:delivered')) {
      this.emit('batch:delivered', { topic, partition, firstOffset: batch.messages[0]?.offset ?? batch.commitOffset, commitOffset: batch.commitOffset, records: records - rebuilt, recommendations: out.length, deadLetters: dead.length, rebuilt });
    }
  }

  /** The pipeline's options: `recommend-popular` is `ignore` there, the worker answers those events itself. */
  private pipelineOptions(): PipelineOptions {
    const o = this.options.pipeline;
    return { ...o, oov: o?.oov === 'error' ? 'error' : 'ignore', modelVersion: this.modelVersion ?? o?.modelVersion, logger: o?.logger ?? this.logger };
  }

  private pipelineFor(partition: number): ClickPipeline {
    let p = this.pipelines.get(partition);
    if (!p) {
      p = new ClickPipeline(this.scorer, this.vocabulary, this.pipelineOptions());
      if (this.options.changelogTopic !== undefined) p.sessionizer.trackChanges();
      const metrics = this.metrics;
      if (metrics) p.on('session:closed', ({ reason }) => metrics.sessionsClosed.inc({ reason }));
      this.pipelines.set(partition, p);
    }
    return p;
  }

  /**
   * `oov: 'recommend-popular'`: an unknown item in a session with no known item yet (the pipeline answers
   * nothing for it: outcome `no-item`, no recommendation) gets the model's k most frequent training items (the
   * vocabulary is ordered by training frequency), scores 0.
   */
  private popularFallback(o: PipelineOutput<RecordMeta>): SessionRecommendation | undefined {
    if (this.options.pipeline?.oov !== 'recommend-popular' || o.outcome !== 'no-item' || this.vocabulary.indexOf(o.event.itemId) !== OOV) return undefined;
    const k = Math.min(this.options.pipeline.k ?? 20, this.vocabulary.size);
    const items = Array.from({ length: k }, (_, i) => this.vocabulary.idOf(i));
    return { sessionId: o.event.sessionId, items, scores: new Array<number>(k).fill(0), eventTime: o.event.timestamp, modelVersion: this.modelVersion ?? this.options.pipeline.modelVersion ?? this.scorer.name };
  }

  private async deliver(batch: SourceBatch, out: Message[], dead: { offset: bigint; message: Message }[]): Promise<void> {
    const commit = { topic: batch.topic, partition: batch.partition, offset: batch.commitOffset };
    // Dead letters in input order, whichever stage rejected them.
    const deadMessages = dead.sort((a, b) => (a.offset < b.offset ? -1 : 1)).map((d) => d.message);
    // Session state for the changelog, under the step lock: a hot swap re-maps item indices.
    const changelogTopic = this.options.changelogTopic;
    const pipeline = this.pipelines.get(batch.partition);
    const changelog = changelogTopic === undefined || !pipeline ? undefined : await this.exclusive(async () => ({
      topic: changelogTopic,
      messages: changelogMessages(pipeline.sessionizer, batch.partition, batch.commitOffset, (ix) => this.vocabulary.idOf(ix)),
    }));
    await this.sink.deliver(
      [{ topic: this.options.outputTopic, messages: out }, { topic: this.options.deadLetterTopic, messages: deadMessages }],
      commit,
      () => this.source.consumer.commitOffsets([commit]),
      changelog,
    );
    if (changelog) {
      this.counters.changelogRecords += changelog.messages.length;
      if (this.metrics) {
        const tombstones = changelog.messages.filter((m) => m.value === null).length;
        this.metrics.changelogRecords.inc({ kind: 'partition' }, 1);
        this.metrics.changelogRecords.inc({ kind: 'tombstone' }, tombstones);
        this.metrics.changelogRecords.inc({ kind: 'session' }, changelog.messages.length - 1 - tombstones);
      }
    }
    if (this.sink.exactlyOnce) await this.awaitVisibleCommit(commit);
  }

  /**
   * Restores a newly assigned partition's sessions from the changelog (the source calls this after the
   * exactly-once take-over fenced the previous owner, before any input of the partition is processed).
   * Returns the input offset the restored state corresponds to, or undefined when the changelog has no state
   * for the partition (then the bounded re-read rebuilds). A record that cannot be decoded is counted, logged
   * and skipped (that session restarts empty); an unreadable partition record means no state (the fallback).
   */
  private async restore(partition: number, heartbeat: () => Promise<void>): Promise<bigint | undefined> {
    const topic = this.options.changelogTopic!;
    this.dropSessions(new Set([partition]));
    const t0 = performance.now();
    let contents;
    try {
      contents = await readChangelogPartition(this.kafka, this.admin, topic, partition, {
        groupPrefix: this.options.groupId, timeoutMs: this.options.changelogRestoreTimeoutMs, heartbeat, heartbeatIntervalMs: this.options.heartbeatIntervalMs, logger: this.logger,
      });
    } catch (err) {
      // The source hands it to kafkajs as a retriable error (or as is when the group is rebalancing).
      this.logger.error({ err, topic, partition }, 'changelog restore failed; the partition is retried');
      throw err;
    }
    let corrupt = 0;
    const skip = (key: string, err: unknown) => {
      corrupt++;
      this.logger.error({ err, topic, partition, key: key.slice(0, 200) }, 'changelog record skipped: it cannot be decoded');
    };
    let partitionRecord;
    if (contents.partitionRecord) {
      try {
        partitionRecord = decodePartitionRecord(contents.partitionRecord);
      } catch (err) {
        skip('', err);
      }
    }
    let sessions = 0;
    const eventTime = partitionRecord?.eventTime;
    // Under the step lock: item ids map through the current vocabulary (a hot swap re-maps live sessions).
    if (eventTime) await this.exclusive(async () => {
      const restored: SessionState[] = [];
      for (const [key, bytes] of contents.sessions) {
        try {
          restored.push(decodeSessionSnapshot(key, bytes, (id) => this.vocabulary.indexOf(id)));
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          skip(key, err);
        }
      }
      const pipeline = this.pipelineFor(partition);
      pipeline.sessionizer.restore(restored, eventTime);
      sessions = pipeline.sessionizer.size;
    });
    const ms = performance.now() - t0;
    this.counters.corruptChangelogRecords += corrupt;
    if (partitionRecord) {
      this.counters.restores++;
      this.counters.restoredSessions += sessions;
      this.counters.restoreMs += ms;
    }
    if (this.metrics) {
      this.metrics.corruptChangelogRecords.inc(corrupt);
      if (partitionRecord) {
        this.metrics.restoredSessions.inc(sessions);
        this.metrics.restoreSeconds.observe(ms / 1000);
      }
    }
    const inputOffset = partitionRecord?.inputOffset.toString();
    this.logger.info({ topic, partition, sessions, records: contents.records, corrupt, ms: Math.round(ms), inputOffset, fallback: !partitionRecord }, partitionRecord ? 'restored sessions from the changelog' : 'no changelog state for the partition; rebuilding by re-reading input');
    if (this.hasListeners('restore')) this.emit('restore', { partition, sessions, records: contents.records, corrupt, ms, inputOffset, fallback: !partitionRecord });
    return partitionRecord?.inputOffset;
  }

  /**
   * Exactly-once: a transaction's offsets reach the group only once the coordinator has written the commit
   * markers, after txn.commit() has returned. A worker that takes the partition over in a rebalance reads the
   * committed offset as soon as it joins (kafkajs has no KIP-447 stable offset fetch), so it could read the
   * older offset and deliver this batch's records a second time (seen under CPU load: 741 duplicates in the
   * RELIABILITY 5 test). The consumer rejoins a rebalance only after the batch handler returns, so returning
   * once the offset is visible closes that window.
   */
  private async awaitVisibleCommit(commit: { topic: string; partition: number; offset: string }): Promise<void> {
    const deadline = Date.now() + this.options.commitVisibleTimeoutMs;
    for (let waitMs = 1; ; waitMs = Math.min(2 * waitMs, 50)) {
      const [topic] = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics: [commit.topic] });
      const seen = topic?.partitions.find((x) => x.partition === commit.partition)?.offset;
      if (seen !== undefined && BigInt(seen) >= BigInt(commit.offset)) return;
      if (Date.now() > deadline) {
        this.logger.warn({ ...commit, seen }, 'committed offset not visible yet; a worker taking this partition over may re-deliver the batch');
        return;
      }
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  /** State built from records that were not delivered would count them twice on re-read: drop it and rebuild. */
  private discard(partition: number): void {
    this.dropSessions(new Set([partition]));
    this.source.markForRebuild(partition);
  }

  private deadLetter(d: DeadLetter): Message {
    this.metrics?.deadLetters.inc({ reason: d.reason });
    if (this.hasListeners('dead-letter')) this.emit('dead-letter', { reason: d.reason, message: d.message, partition: d.meta.partition, offset: d.meta.offset });
    return this.sink.deadLetterMessage(d);
  }
}
