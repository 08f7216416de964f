// `nextclick replay --to-kafka` and `nextclick stream` end to end: train a small baseline with the CLI,
// replay a log into a topic, run the worker until SIGTERM, read the recommendations back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { main } from '../../src/cli/main.js';
import { MsgpackCodec } from '../../src/events/msgpack-codec.js';
import { RecordHeaders } from '../../streaming/kafka/headers.js';
import { readTopic } from '../../streaming/kafka/topic-reader.js';
import { committedLag } from '../../streaming/kafka/topics.js';
import { BASE_TIME, makeEvents } from './fixtures/events.js';
import { KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, setupTopics, waitFor } from './helpers.js';

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => { out += d.toString(); });
  (stderr as unknown as PassThrough).on('data', (d: Buffer) => { err += d.toString(); });
  return { io: { stdout, stderr }, out: () => out, err: () => err };
}

describe.skipIf(kafkaSkipped())('nextclick replay --to-kafka + nextclick stream', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  it('replays a log into a topic and streams recommendations from a saved baseline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nextclick-cli-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const events = makeEvents(600, 40, 30, 3);
    const log = join(dir, 'log.tsv');
    writeFileSync(log, 'SessionId\tItemId\tTime\n' + events.map((e) => `${e.sessionId}\t${e.itemId}\t${e.timestamp / 1000}`).join('\n') + '\n');
    // Training reads sessions on consecutive lines; the replayed log stays interleaved like live traffic.
    const trainLog = join(dir, 'train.tsv');
    const sorted = [...events].sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : a.timestamp - b.timestamp));
    writeFileSync(trainLog, 'SessionId\tItemId\tTime\n' + sorted.map((e) => `${e.sessionId}\t${e.itemId}\t${e.timestamp / 1000}`).join('\n') + '\n');
    const train = io();
    expect(await main(['train', '--train', trainLog, '--model', 'sr', '--out', join(dir, 'model')], train.io), train.err()).toBe(0);

    const brokers = kafkaBrokers();
    const n = names('cli');
    await setupTopics(brokers, n);
    const replay = io();
    expect(await main(['replay', '--to-kafka', '--input', log, '--topic', n.input, '--brokers', brokers.join(','), '--json'], replay.io), replay.err()).toBe(0);
    expect(JSON.parse(replay.out())).toMatchObject({ ok: true, events: 600 });

    const stream = io();
    const running = main(['stream', '--model', join(dir, 'model'), '--brokers', brokers.join(','), '--input-topic', n.input, '--output-topic', n.output,
      '--dlq-topic', n.dlq, '--group', n.group, '--exactly-once', '--app-id', `${n.group}-cli`, '--k', '3', '--log-level', 'error', '--json'], stream.io);
    const caughtUp = await waitFor(async () => (await committedLag(brokers, n.group, n.input).catch(() => -1)) === 0, 300_000, 500);
    process.emit('SIGTERM', 'SIGTERM');
    expect(await running, stream.err()).toBe(0);
    expect(caughtUp).toBe(true);
    expect(JSON.parse(stream.out())).toMatchObject({ ok: true, signal: 'SIGTERM', records: 600, deadLetters: 0 });

    const outputs = await readTopic(brokers, n.output);
    expect(outputs.length).toBeGreaterThan(0);
    const rec = new MsgpackCodec().decode(outputs[0]!.value!) as { sessionId: string; items: unknown[]; modelVersion: string; eventTime: number };
    expect(rec.items.length).toBeLessThanOrEqual(3);
    // kind@content hash: no server path in the output.
    expect(rec.modelVersion).toMatch(/^sr@[0-9a-f]{12}$/);
    expect(rec.eventTime).toBeGreaterThanOrEqual(BASE_TIME);
    expect(outputs[0]!.headers[RecordHeaders.inputTopic]).toBe(n.input);

    // Missing output/DLQ topics: exit 2 naming them, before consuming anything.
    const t2 = { output: `${n.output}-2`, dlq: `${n.dlq}-2`, group: `${n.group}-2` };
    const common = ['stream', '--model', join(dir, 'model'), '--brokers', brokers.join(','), '--input-topic', n.input, '--output-topic', t2.output,
      '--dlq-topic', t2.dlq, '--group', t2.group, '--log-level', 'error'];
    const missing = io();
    expect(await main(common, missing.io)).toBe(2);
    expect(missing.err()).toContain(`topics missing on the cluster: ${t2.output} (outputTopic), ${t2.dlq} (deadLetterTopic)`);
    expect(await committedLag(brokers, t2.group, n.input)).toBe(600);
    // --create-topics creates them (partitions of the input topic) and the worker runs, with the other flags.
    const created = io();
    const running2 = main([...common, '--create-topics', '--client-id', 'cli-2', '--oov', 'recommend-popular', '--max-sessions', '100', '--compression', 'zstd', '--json'], created.io);
    const caughtUp2 = await waitFor(async () => (await committedLag(brokers, t2.group, n.input).catch(() => -1)) === 0, 300_000, 500);
    process.emit('SIGTERM', 'SIGTERM');
    expect(await running2, created.err()).toBe(0);
    expect(caughtUp2).toBe(true);
    const outputs2 = await readTopic(brokers, t2.output);
    expect(outputs2).toHaveLength(600);
    expect(new Set(outputs2.map((o) => o.partition)).size).toBe(3);
  });
});
