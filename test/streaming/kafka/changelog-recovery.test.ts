// Issue #18 step 4 (streaming/README.md reliability #21–#23): exact session-state recovery through the compacted
// changelog. Long sessions (far more events than `rebuildRecords`, set to 50 here) across SIGKILLs of a
// child-process worker and across a rebalance give the same recommendation for every (partition, offset) as
// one unbroken pipeline per partition; without the changelog the same kills change recommendations (control).
// Tombstones remove expired sessions; a corrupted changelog record is counted, logged and skipped.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Kafka, logLevel, type ConfigResourceTypes } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { main } from '../../../src/cli/main.js';
import type { ClickEvent } from '../../../src/events/click-event.js';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { ClickPipeline } from '../../../src/pipeline/click-pipeline.js';
import { changelogTopicName } from '../../../streaming/kafka/changelog.js';
import { RecordHeaders } from '../../../streaming/kafka/headers.js';
import { KafkaStreamWorker, type KafkaStreamWorkerOptions } from '../../../streaming/index.js';
import { readTopic, type ReadRecord } from '../../../streaming/kafka/topic-reader.js';
import { committedLag, createTopics } from '../../../streaming/kafka/topics.js';
import { makeEvents } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { ChildWorker, KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, produceEvents, setupTopics, verify, waitFor } from '../helpers.js';

const ITEMS = 100;
const REBUILD_RECORDS = 50;
const codec = new MsgpackCodec();

/**
 * Compares every output with one unbroken pipeline per partition fed the input in offset order (sessions
 * never span partitions). Duplicated outputs (at-least-once) are compared too.
 */
async function compareWithUnbroken(brokers: string[], input: string, outputs: readonly ReadRecord[], sessions: { idleTimeoutMs?: number } = {}): Promise<{ compared: number; differing: number; missing: number }> {
  const inputs = await readTopic(brokers, input, { isolation: 'read_uncommitted' });
  const reference = new Map<string, string>();
  for (const p of new Set(inputs.map((r) => r.partition))) {
    const single = new ClickPipeline(new HistoryScorer(ITEMS), testVocabulary(ITEMS), { k: 5, sessions });
    const part = inputs.filter((r) => r.partition === p);
    const outs = await single.process(part.map((r) => ({ event: codec.decode(r.value!) as ClickEvent, meta: r.offset })));
    for (const o of outs) if (o.recommendation) reference.set(`${p}:${o.meta}`, JSON.stringify(o.recommendation.items));
  }
  let differing = 0;
  const seen = new Set<string>();
  for (const o of outputs) {
    const at = `${o.headers[RecordHeaders.inputPartition]}:${o.headers[RecordHeaders.inputOffset]}`;
    seen.add(at);
    if (reference.get(at) !== JSON.stringify((codec.decode(o.value!) as { items: unknown[] }).items)) differing++;
  }
  return { compared: outputs.length, differing, missing: [...reference.keys()].filter((k) => !seen.has(k)).length };
}

/** Latest value per key of a compacted topic as read (null = tombstone). */
function latestByKey(records: readonly ReadRecord[]): Map<string, ReadRecord> {
  const m = new Map<string, ReadRecord>();
  for (const r of records) if (r.key !== null) m.set(r.key, r);
  return m;
}

describe.skipIf(kafkaSkipped())('session-state changelog: exact recovery', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  // Two SIGKILLs mid-stream, then a worker that drains; 30 sessions of ~150 events each over 3 partitions.
  const killRun = async (label: string, delivery: 'exactly-once' | 'at-least-once', changelog: boolean, env: Record<string, string> = {}) => {
    const brokers = kafkaBrokers();
    const n = names(label);
    await setupTopics(brokers, n);
    const appId = `${n.group}-worker`;
    if (changelog) await createTopics(brokers, [{ topic: changelogTopicName(appId, n.input), partitions: 3, config: { 'cleanup.policy': 'compact' } }]);
    await produceEvents(brokers, n.input, codec, makeEvents(4_500, 30, ITEMS, 21));
    const cfg = {
      brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, delivery, appId,
      items: ITEMS, stepSize: 100, maxFetchBytes: 8 * 1024, delayMs: 2, changelog, rebuildRecords: REBUILD_RECORDS,
    };
    const log: string[] = [];
    for (let k = 0; k < 2; k++) {
      const w = new ChildWorker(cfg, k === 1 ? env : {});
      await w.ready();
      const before = w.batches;
      // Kill after a few batches; with FAULT=kill-after-produce the child kills itself between the changelog
      // write and the offset commit of its FAULT_AT-th delivery.
      const progressed = await w.until(() => w.batches >= before + 4 || !w.alive, 300_000);
      expect(progressed, `no progress: ${w.stderr.slice(-1000)}`).toBe(true);
      const exit = w.alive ? await w.kill('SIGKILL') : await w.exited;
      expect(exit.signal).toBe('SIGKILL');
      log.push(...w.stdout.split('\n').filter((l) => l.startsWith('RESTORE')), `SIGKILL@${w.batches}`);
    }
    const last = new ChildWorker(cfg);
    await last.ready();
    expect(await waitFor(async () => (await committedLag(brokers, n.group, n.input).catch(() => -1)) === 0 || !last.alive, 300_000, 500), `not drained: ${log.join(' ')}\n${last.stdout.slice(-3000)}\n${last.stderr.slice(-2000)}`).toBe(true);
    expect((await last.kill('SIGTERM')).code, last.stderr.slice(-1000)).toBe(0);
    log.push(...last.stdout.split('\n').filter((l) => l.startsWith('RESTORE')));
    const outputs = await readTopic(brokers, n.output, { isolation: delivery === 'exactly-once' ? 'read_committed' : 'read_uncommitted' });
    const v = verify(outputs, (await readTopic(brokers, n.input, { isolation: 'read_uncommitted' })).map((r) => ({ partition: r.partition, offset: r.offset })));
    const cmp = await compareWithUnbroken(brokers, n.input, outputs, { idleTimeoutMs: 3_600_000 });
    const restores = log.filter((l) => l.startsWith('RESTORE') && l.includes('fallback=false'));
    console.log(`[changelog ${label}] ${log.filter((l) => !l.startsWith('RESTORE')).join(' ')} restores=${restores.length} inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated} differFromUnbroken=${cmp.differing} missing=${cmp.missing}`);
    return { v, cmp, restores, log };
  };

  it('exactly-once: long sessions across two SIGKILLs give the recommendations of an unbroken run', async () => {
    const { v, cmp, restores } = await killRun('cl-eos-kill', 'exactly-once', true);
    expect(v).toMatchObject({ inputs: 4_500, outputs: 4_500, lost: 0, duplicated: 0 });
    // Each restarted worker restored state (not the bounded re-read) for the partitions it took.
    expect(restores.length).toBeGreaterThan(0);
    expect(restores.some((l) => !l.includes('sessions=0'))).toBe(true);
    expect(cmp).toMatchObject({ differing: 0, missing: 0 });
  }, 2 * KAFKA_TEST_TIMEOUT_MS);

  it('control: the same kills without the changelog (bounded re-read of 50 records) change recommendations', async () => {
    const { v, cmp } = await killRun('cl-eos-control', 'exactly-once', false);
    expect(v).toMatchObject({ inputs: 4_500, lost: 0, duplicated: 0 });
    expect(cmp.differing).toBeGreaterThan(0);
  }, 2 * KAFKA_TEST_TIMEOUT_MS);

  it('at-least-once: a kill between the changelog write and the offset commit resumes where the changelog stands', async () => {
    const { v, cmp, restores } = await killRun('cl-alo-kill', 'at-least-once', true, { FAULT: 'kill-after-produce', FAULT_AT: '3' });
    expect(v.lost).toBe(0);
    expect(restores.length).toBeGreaterThan(0);
    // Re-emitted outputs (at-least-once) are compared too: all equal the unbroken run's.
    expect(cmp).toMatchObject({ differing: 0, missing: 0 });
  }, 2 * KAFKA_TEST_TIMEOUT_MS);

  it('at-least-once: a kill after the changelog write of a partition\'s last input leaves no lag: the next owner commits the restored offset', async () => {
    const brokers = kafkaBrokers();
    const n = names('cl-alo-tail');
    await setupTopics(brokers, n, 1);
    const appId = `${n.group}-worker`;
    await createTopics(brokers, [{ topic: changelogTopicName(appId, n.input), partitions: 1, config: { 'cleanup.policy': 'compact' } }]);
    await produceEvents(brokers, n.input, codec, makeEvents(200, 10, ITEMS, 31));
    const cfg = { brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, delivery: 'at-least-once', appId, items: ITEMS, changelog: true, rebuildRecords: REBUILD_RECORDS };
    // The first delivery holds the whole partition (one fetch); the worker dies after its outputs and changelog
    // records are acknowledged, before the offset commit.
    const first = new ChildWorker(cfg, { FAULT: 'kill-after-produce', FAULT_AT: '1' });
    expect((await first.exit(300_000)).signal).toBe('SIGKILL');
    expect(first.stdout).toContain('PRODUCED');
    const next = new ChildWorker(cfg);
    await next.ready();
    expect(await next.until(() => next.stdout.includes('RESTORE'), 300_000)).toBe(true);
    // The state covers all 200 records: no input is left to process, so only the restore can commit.
    expect(next.stdout).toMatch(/RESTORE 0 sessions=10 .*fallback=false at=200/);
    expect(await waitFor(async () => (await committedLag(brokers, n.group, n.input)) === 0 || !next.alive, 300_000, 200), next.stdout.slice(-2000)).toBe(true);
    expect((await next.kill('SIGTERM')).code, next.stderr.slice(-1000)).toBe(0);
    const v = verify(await readTopic(brokers, n.output, { isolation: 'read_uncommitted' }), (await readTopic(brokers, n.input, { isolation: 'read_uncommitted' })).map((r) => ({ partition: r.partition, offset: r.offset })));
    expect(v).toMatchObject({ inputs: 200, outputs: 200, lost: 0, duplicated: 0 });
  });

  it('rebalance: A, then B joins, then A leaves; every recommendation equals an unbroken run\'s', async () => {
    const brokers = kafkaBrokers();
    const n = names('cl-rebal');
    await setupTopics(brokers, n);
    const events = makeEvents(6_000, 30, ITEMS, 8);
    await produceEvents(brokers, n.input, codec, events.slice(0, 3_000));
    const make = (id: string) => {
      const w = new KafkaStreamWorker(new HistoryScorer(ITEMS, 1), testVocabulary(ITEMS), {
        brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, codec, delivery: 'exactly-once',
        appId: n.group, clientId: `worker-${id}`, stepSize: 100, maxFetchBytes: 8 * 1024, sessionTimeoutMs: 6_000,
        changelog: true, createTopics: {}, rebuildRecords: REBUILD_RECORDS, pipeline: { k: 5 },
      });
      onTestFinished(() => w.close());
      return w;
    };
    const a = make('a');
    let revoked = 0;
    a.on('rebalance', (r) => { revoked += r.revoked.length; });
    await a.start();
    expect(await waitFor(() => a.stats().records >= 1_000, 300_000, 20)).toBe(true);
    const b = make('b');
    const restores: { partition: number; sessions: number; fallback: boolean }[] = [];
    b.on('restore', (r) => restores.push(r));
    await b.start();
    expect(await waitFor(() => revoked > 0 && b.stats().rebalances >= 1, 300_000, 50)).toBe(true);
    await produceEvents(brokers, n.input, codec, events.slice(3_000));
    expect(await waitFor(() => b.stats().records > 0, 300_000, 50)).toBe(true);
    await a.close();
    expect(await waitFor(async () => (await committedLag(brokers, n.group, n.input)) === 0, 300_000, 500)).toBe(true);
    await b.close();
    const outputs = await readTopic(brokers, n.output, { isolation: 'read_committed' });
    const v = verify(outputs, (await readTopic(brokers, n.input, { isolation: 'read_uncommitted' })).map((r) => ({ partition: r.partition, offset: r.offset })));
    const cmp = await compareWithUnbroken(brokers, n.input, outputs);
    const s = b.stats();
    console.log(`[changelog rebalance] a=${a.stats().records} b=${s.records} revokedFromA=${revoked} bRestores=${s.restores} bRestoredSessions=${s.restoredSessions} bRestoreMs=${Math.round(s.restoreMs)} bRebuilt=${s.rebuilt} changelogRecords a=${a.stats().changelogRecords} b=${s.changelogRecords} lost=${v.lost} duplicated=${v.duplicated} differFromUnbroken=${cmp.differing}`);
    expect(v).toMatchObject({ inputs: 6_000, outputs: 6_000, lost: 0, duplicated: 0 });
    expect(revoked).toBeGreaterThan(0);
    expect(restores.filter((r) => !r.fallback && r.sessions > 0).length).toBeGreaterThan(0);
    // Restored, not re-read: no input was re-read to rebuild state.
    expect(s.rebuilt).toBe(0);
    expect(cmp).toMatchObject({ differing: 0, missing: 0 });
  });

  it('tombstones remove expired sessions; a corrupted record is counted, logged and skipped; the worker goes on', async () => {
    const brokers = kafkaBrokers();
    const n = names('cl-tomb');
    await setupTopics(brokers, n);
    const changelogTopic = `${n.group}-state`;
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error(o: unknown, msg?: string) { errors.push(`${msg ?? ''} ${JSON.stringify(o)}`); } };
    const options: KafkaStreamWorkerOptions = {
      brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, codec,
      changelog: { topic: changelogTopic }, createTopics: {}, rebuildRecords: REBUILD_RECORDS, logger,
      pipeline: { k: 5, sessions: { idleTimeoutMs: 60_000, outOfOrderToleranceMs: 10_000 } },
    };
    // 20 sessions, then 20 others an hour later: the first 20 expire (idle) and get tombstones.
    const old = makeEvents(400, 20, ITEMS, 3, 'old');
    const later = makeEvents(400, 20, ITEMS, 4, 'new').map((e) => ({ ...e, timestamp: e.timestamp + 3_600_000 }));
    await produceEvents(brokers, n.input, codec, [...old, ...later]);
    const w1 = new KafkaStreamWorker(new HistoryScorer(ITEMS), testVocabulary(ITEMS), options);
    onTestFinished(() => w1.close());
    await w1.start();
    expect(await waitFor(() => w1.stats().records >= 800, 300_000, 50)).toBe(true);
    const live = w1.stats().liveSessions;
    await w1.close();
    expect(live).toBe(20);

    const latest = latestByKey(await readTopic(brokers, changelogTopic));
    const oldKeys = [...latest.keys()].filter((k) => k.startsWith('old'));
    expect(oldKeys).toHaveLength(20);
    expect(oldKeys.every((k) => latest.get(k)!.value === null)).toBe(true);
    const newKeys = [...latest.keys()].filter((k) => k.startsWith('new'));
    expect(newKeys.every((k) => latest.get(k)!.value !== null)).toBe(true);
    expect(newKeys).toHaveLength(20);

    // Corrupt one session's latest record, in its partition (not msgpack at all).
    const victim = latest.get('new3')!;
    const kafka = new Kafka({ clientId: 'corrupter', brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: changelogTopic, acks: -1, messages: [{ key: 'new3', value: Buffer.from('\xc1 this is not a session snapshot'), partition: victim.partition }] });
    await producer.disconnect();

    const registry = new Registry();
    const w2 = new KafkaStreamWorker(new HistoryScorer(ITEMS), testVocabulary(ITEMS), { ...options, registry });
    onTestFinished(() => w2.close());
    const restores: { sessions: number; corrupt: number; fallback: boolean }[] = [];
    w2.on('restore', (r) => restores.push(r));
    let crashes = 0;
    w2.on('crash', () => { crashes++; });
    await w2.start();
    // Each of the 20 live sessions continues; the corrupted one restarts empty, nothing crashes.
    const more = makeEvents(200, 20, ITEMS, 5, 'new').map((e, i) => ({ ...e, eventId: `more${i}`, timestamp: e.timestamp + 3_600_000 + 400_000 }));
    await produceEvents(brokers, n.input, codec, more);
    expect(await waitFor(() => w2.stats().records >= 200, 300_000, 50)).toBe(true);
    const s = w2.stats();
    await w2.close();
    console.log(`[changelog tombstones] tombstoned=${oldKeys.length} live=${newKeys.length} restored=${s.restoredSessions} corrupt=${s.corruptChangelogRecords} restores=${JSON.stringify(restores)} crashes=${crashes} failedBatches=${s.failedBatches}`);
    expect(crashes).toBe(0);
    expect(s.failedBatches).toBe(0);
    expect(s.corruptChangelogRecords).toBe(1);
    expect(restores.reduce((t, r) => t + r.corrupt, 0)).toBe(1);
    expect(s.restoredSessions).toBe(19);
    expect(restores.every((r) => !r.fallback)).toBe(true);
    expect(errors.some((e) => e.includes('changelog record skipped') && e.includes('new3'))).toBe(true);
    expect(s.recommendations).toBe(200);
    const metrics = await registry.metrics();
    expect(metrics).toContain('nextclick_restored_sessions_total 19');
    expect(metrics).toContain('nextclick_changelog_corrupt_records_total 1');
    expect(metrics).toContain('nextclick_changelog_restore_seconds_count 3');
    expect(metrics).toMatch(/nextclick_changelog_records_total\{kind="session"\} [1-9]/);
  });

  it('start-up check: a missing changelog is named (or created compacted); a delete-policy or too small one is refused', async () => {
    const brokers = kafkaBrokers();
    const n = names('cl-check');
    await setupTopics(brokers, n);
    const base: KafkaStreamWorkerOptions = { brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, codec, changelog: true };
    const startError = async (o: KafkaStreamWorkerOptions) => {
      const w = new KafkaStreamWorker(new HistoryScorer(10), testVocabulary(10), o);
      const err = await w.start().then(() => undefined, (e: unknown) => e);
      await w.close();
      return err as Error | undefined;
    };
    const name = changelogTopicName(n.group, n.input);
    expect(await startError(base)).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining(`${name} (changelog)`) });
    await createTopics(brokers, [{ topic: `${n.group}-del`, partitions: 3 }, { topic: `${n.group}-small`, partitions: 2, config: { 'cleanup.policy': 'compact' } }]);
    expect(await startError({ ...base, changelog: { topic: `${n.group}-del` } })).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('cleanup.policy=delete') });
    expect(await startError({ ...base, changelog: { topic: `${n.group}-small` } })).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('2 partitions, fewer than the 3') });
    expect(await startError({ ...base, createTopics: {} })).toBeUndefined();
    const admin = new Kafka({ clientId: 'test', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [name] });
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 as ConfigResourceTypes, name, configNames: ['cleanup.policy'] }] });
    await admin.disconnect();
    expect(meta.topics[0]!.partitions).toHaveLength(3);
    expect(configs.resources[0]!.configEntries[0]).toMatchObject({ configName: 'cleanup.policy', configValue: 'compact' });
  });

  it('CLI: --changelog --create-topics writes the changelog; a restarted worker restores from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nextclick-cl-cli-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const events = makeEvents(600, 20, 30, 6);
    const trainLog = join(dir, 'train.tsv');
    const sorted = [...events].sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : a.timestamp - b.timestamp));
    writeFileSync(trainLog, 'SessionId\tItemId\tTime\n' + sorted.map((e) => `${e.sessionId}\t${e.itemId}\t${e.timestamp / 1000}`).join('\n') + '\n');
    const io = () => {
      const stdout = new PassThrough();
      const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
      let out = '';
      let err = '';
      stdout.on('data', (d: Buffer) => { out += d.toString(); });
      (stderr as unknown as PassThrough).on('data', (d: Buffer) => { err += d.toString(); });
      return { io: { stdout, stderr }, out: () => out, err: () => err };
    };
    const train = io();
    expect(await main(['train', '--train', trainLog, '--model', 'sr', '--out', join(dir, 'model')], train.io), train.err()).toBe(0);
    const brokers = kafkaBrokers();
    const n = names('cl-cli');
    await setupTopics(brokers, n);
    const topic = `${n.group}-sessions`;
    const run = async (from: number, to: number) => {
      await produceEvents(brokers, n.input, codec, events.slice(from, to));
      const t = io();
      const running = main(['stream', '--model', join(dir, 'model'), '--brokers', brokers.join(','), '--input-topic', n.input, '--output-topic', n.output,
        '--dlq-topic', n.dlq, '--group', n.group, '--exactly-once', '--changelog-topic', topic, '--create-topics', '--rebuild-records', '0', '--log-level', 'error', '--json'], t.io);
      const caughtUp = await waitFor(async () => (await committedLag(brokers, n.group, n.input).catch(() => -1)) === 0, 300_000, 500);
      process.emit('SIGTERM', 'SIGTERM');
      expect(await running, t.err()).toBe(0);
      expect(caughtUp).toBe(true);
      return JSON.parse(t.out()) as { records: number; restoredSessions: number; changelogRecords: number };
    };
    const first = await run(0, 300);
    expect(first).toMatchObject({ records: 300, restoredSessions: 0 });
    expect(first.changelogRecords).toBeGreaterThan(0);
    const second = await run(300, 600);
    expect(second.records).toBe(300);
    expect(second.restoredSessions).toBe(20);
  });
});

