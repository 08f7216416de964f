// RELIABILITY.md 19: a SASL_SSL cluster (the project's broker with a SASL_SSL listener, mutual TLS required,
// CA made by the test): the worker streams through PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER; the CLI
// through a --config file with the password from the environment; a wrong password fails without echoing it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { KafkaBroker } from '../../../scripts/kafka/broker.mjs';
import { main } from '../../../src/cli/main.js';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import type { KafkaSaslOptions } from '../../../streaming/kafka/client.js';
import { KafkaStreamWorker } from '../../../streaming/kafka/stream-worker.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { committedLag, produceEvents } from '../../../streaming/kafka/topics.js';
import { makeEvents } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { KAFKA_TEST_TIMEOUT_MS, names, setupTopics, waitFor } from '../helpers.js';
import { makeTestPki, type TestPki } from '../tls-fixtures.js';

/** An unsigned JWT (alg none), which the broker's development OAUTHBEARER validator accepts. */
function unsecuredToken(sub: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none' })}.${b64({ sub, iat: now, exp: now + 3600 })}.`;
}

describe.skipIf(!inject('kafkaCanStartBrokers'))('Kafka worker on a SASL_SSL cluster (mutual TLS)', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  let pki: TestPki;
  let broker: KafkaBroker;
  beforeAll(async () => {
    pki = makeTestPki();
    broker = new KafkaBroker({ saslSsl: { keyStorePem: pki.brokerKeyStorePem, trustStorePem: pki.caPem, clientAuth: 'required', plainUsers: { alice: 'alice-pw' }, scramUsers: { bob: 'bob-pw' } } });
    await broker.start();
  }, 300_000);
  afterAll(async () => {
    await broker?.stop();
    if (broker?.dataDir) rmSync(broker.dataDir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });
  const tls = () => ({ ca: readFileSync(pki.caPem), cert: readFileSync(pki.clientCertPem), key: readFileSync(pki.clientKeyPem) });

  it.each<[string, () => KafkaSaslOptions]>([
    ['plain', () => ({ mechanism: 'plain', username: 'alice', password: 'alice-pw' })],
    ['scram-sha-256', () => ({ mechanism: 'scram-sha-256', username: 'bob', password: 'bob-pw' })],
    ['scram-sha-512', () => ({ mechanism: 'scram-sha-512', username: 'bob', password: 'bob-pw' })],
    ['oauthbearer', () => ({ mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: unsecuredToken('carol') }) })],
  ])('streams every event through SASL %s over mutual TLS', async (mechanism, sasl) => {
    const plaintext = [broker.brokers];
    const n = names(`sasl-${mechanism}`);
    await setupTopics(plaintext, n);
    await produceEvents(plaintext, n.input, new MsgpackCodec(), makeEvents(300, 30, 20, 9));
    const worker = new KafkaStreamWorker(new HistoryScorer(20), testVocabulary(20), {
      brokers: [broker.saslSslBrokers], ssl: tls(), sasl: sasl(),
      inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, delivery: 'exactly-once', pipeline: { k: 3 },
    });
    onTestFinished(() => worker.close());
    await worker.start();
    expect(await waitFor(() => worker.stats().records >= 300, 300_000), `processed ${worker.stats().records}`).toBe(true);
    await worker.close();
    const out = await readTopic(plaintext, n.output);
    console.log(`[sasl_ssl ${mechanism}] inputs=300 outputs=${out.length}`);
    expect(out).toHaveLength(300);
  });

  it('a wrong password fails start() without echoing it', async () => {
    const n = names('sasl-wrong');
    await setupTopics([broker.brokers], n);
    const worker = new KafkaStreamWorker(new HistoryScorer(20), testVocabulary(20), {
      brokers: [broker.saslSslBrokers], ssl: tls(), sasl: { mechanism: 'scram-sha-512', username: 'bob', password: 'Wrong-Pa55word' },
      inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group,
    });
    const err = await worker.start().then(() => undefined, (e: unknown) => e as Error);
    await worker.close().catch(() => undefined);
    console.log(`[sasl_ssl wrong password] ${err?.name}: ${err?.message}`);
    expect(err).toBeDefined();
    expect(`${err!.message} ${JSON.stringify(err)}`).not.toContain('Wrong-Pa55word');
  });

  it('without a client certificate the broker refuses the connection (mutual TLS is required)', async () => {
    const n = names('no-client-cert');
    await setupTopics([broker.brokers], n);
    const worker = new KafkaStreamWorker(new HistoryScorer(20), testVocabulary(20), {
      brokers: [broker.saslSslBrokers], ssl: { ca: readFileSync(pki.caPem) }, sasl: { mechanism: 'plain', username: 'alice', password: 'alice-pw' },
      inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group,
    });
    const err = await worker.start().then(() => undefined, (e: unknown) => e as Error);
    await worker.close().catch(() => undefined);
    console.log(`[sasl_ssl no client certificate] ${err?.name}: ${err?.message}`);
    expect(err).toBeDefined();
  });

  it('the CLI streams through SASL_SSL from a --config file, the password from the environment, echoed nowhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nextclick-secure-cli-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const events = makeEvents(300, 30, 20, 12);
    const sorted = [...events].sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : a.timestamp - b.timestamp));
    writeFileSync(join(dir, 'train.tsv'), 'SessionId\tItemId\tTime\n' + sorted.map((e) => `${e.sessionId}\t${e.itemId}\t${e.timestamp / 1000}`).join('\n') + '\n');
    const quiet = { stdout: new PassThrough(), stderr: new PassThrough() as unknown as NodeJS.WriteStream };
    expect(await main(['train', '--train', join(dir, 'train.tsv'), '--model', 'sr', '--out', join(dir, 'model')], quiet)).toBe(0);
    const plaintext = [broker.brokers];
    const n = names('sasl-cli');
    await setupTopics(plaintext, n);
    await produceEvents(plaintext, n.input, new MsgpackCodec(), events);
    const config = join(dir, 'kafka.json');
    writeFileSync(config, JSON.stringify({
      brokers: broker.saslSslBrokers, 'ssl-ca': pki.caPem, 'ssl-cert': pki.clientCertPem, 'ssl-key': pki.clientKeyPem,
      'sasl-mechanism': 'scram-sha-512', 'sasl-username': 'bob', 'sasl-password-env': 'NEXTCLICK_TEST_KAFKA_PASSWORD',
    }));
    process.env['NEXTCLICK_TEST_KAFKA_PASSWORD'] = 'bob-pw';
    onTestFinished(() => { delete process.env['NEXTCLICK_TEST_KAFKA_PASSWORD']; });
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const running = main(['stream', '--config', config, '--model', join(dir, 'model'), '--input-topic', n.input, '--output-topic', n.output,
      '--dlq-topic', n.dlq, '--group', n.group, '--log-level', 'info'], { stdout: new PassThrough(), stderr: stderr as unknown as NodeJS.WriteStream });
    const caughtUp = await waitFor(async () => (await committedLag(plaintext, n.group, n.input).catch(() => -1)) === 0, 300_000, 500);
    process.emit('SIGTERM', 'SIGTERM');
    expect(await running, err.slice(-2000)).toBe(0);
    expect(caughtUp).toBe(true);
    expect(await readTopic(plaintext, n.output)).toHaveLength(300);
    expect(err).not.toContain('bob-pw');
    // A literal password in the config file is refused.
    writeFileSync(config, JSON.stringify({ 'sasl-password': 'bob-pw' }));
    const refused = new PassThrough();
    let refusedErr = '';
    refused.on('data', (d: Buffer) => { refusedErr += d.toString(); });
    expect(await main(['stream', '--config', config], { stdout: new PassThrough(), stderr: refused as unknown as NodeJS.WriteStream })).toBe(2);
    expect(refusedErr).toContain('give secrets by reference');
    expect(refusedErr).not.toContain('bob-pw');
  });
});
