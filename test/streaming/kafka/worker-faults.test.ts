// RELIABILITY.md 2 (SIGKILL the worker 3 times, stop it cleanly 3 times; exactly-once) and
// 6 (at-least-once edges: crash after produce before commit re-emits without a gap; crash before produce
// loses nothing). The worker runs in a child process (test/streaming/fixtures/worker.ts, bundled by globalSetup).
import { describe, expect, it } from 'vitest';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { committedLag } from '../../../streaming/kafka/topics.js';
import { makeEvents } from '../fixtures/events.js';
import { ChildWorker, inputOffsets, KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, produceEvents, setupTopics, verify, waitFor } from '../helpers.js';

const ITEMS = 200;

function config(n: ReturnType<typeof names>, delivery: 'exactly-once' | 'at-least-once') {
  // Small fetches and steps plus a slow model: many batches, so kills land mid-stream.
  return {
    brokers: kafkaBrokers(), inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group,
    delivery, appId: `${n.group}-worker`, items: ITEMS, stepSize: 100, maxFetchBytes: 16 * 1024, delayMs: 2,
  };
}

async function drain(n: ReturnType<typeof names>, cfg: ReturnType<typeof config>, env: Record<string, string> = {}): Promise<void> {
  const w = new ChildWorker(cfg, env);
  await w.ready();
  const done = await waitFor(async () => (await committedLag(kafkaBrokers(), n.group, n.input)) === 0 || !w.alive, 300_000, 500);
  expect(done && w.alive, `worker did not catch up within 300 s: ${w.stderr.slice(-1000)}`).toBe(true);
  expect((await w.kill('SIGTERM')).code).toBe(0);
}

describe.skipIf(kafkaSkipped())('Kafka worker in a child process, faults', () => {
  it('exactly-once: 0 lost, 0 duplicated through 3 SIGKILLs and 3 clean stops', async () => {
    const brokers = kafkaBrokers();
    const n = names('sigkill');
    await setupTopics(brokers, n);
    await produceEvents(brokers, n.input, new MsgpackCodec(), makeEvents(12_000, 600, ITEMS, 11));
    const cfg = config(n, 'exactly-once');
    const kills: string[] = [];
    // Two SIGKILLs from outside at varying points, one from inside an open transaction, three clean stops.
    for (const signal of ['SIGKILL', 'SIGKILL', 'IN-TRANSACTION', 'SIGTERM', 'SIGTERM', 'SIGTERM'] as const) {
      if (signal === 'IN-TRANSACTION') {
        const w = new ChildWorker(cfg, { FAULT: 'kill-in-transaction', FAULT_AT: '3' });
        const exit = await w.exit(300_000);
        expect(exit.signal, w.stderr.slice(-1000)).toBe('SIGKILL');
        expect(w.stdout).toContain('IN-TRANSACTION');
        kills.push(`SIGKILL-in-transaction@${w.batches}batches`);
        continue;
      }
      const w = new ChildWorker(cfg);
      await w.ready();
      const before = w.batches;
      expect(await w.until(() => w.batches >= before + 3, 180_000), `no progress before kill: ${w.stderr.slice(-1000)}`).toBe(true);
      // Land the signal at varying points of the next batch (decode, model, open transaction, commit).
      await new Promise((r) => setTimeout(r, [0, 15, 40][kills.length % 3]));
      const exit = await w.kill(signal);
      kills.push(`${signal}@${w.batches}batches`);
      if (signal === 'SIGTERM') {
        expect(exit.code, w.stderr.slice(-1000)).toBe(0);
        expect(w.stdout).toContain('CLOSED');
      } else expect(exit.signal).toBe('SIGKILL');
    }
    await drain(n, cfg);
    const v = verify(await readTopic(brokers, n.output, { isolation: 'read_committed' }), await inputOffsets(brokers, n.input));
    console.log(`[eos faults] ${kills.join(' ')} inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated} outOfOrderSessions=${v.outOfOrderSessions}`);
    expect(v).toMatchObject({ inputs: 12_000, outputs: 12_000, lost: 0, duplicated: 0, outOfOrderSessions: 0 });
    // The transaction killed before its commit was aborted: its records are in the log (read_uncommitted)
    // but invisible to read_committed readers, and its offsets were not committed.
    const raw = await readTopic(brokers, n.output, { isolation: 'read_uncommitted' });
    console.log(`[eos faults] read_uncommitted records=${raw.length} (aborted transactions included)`);
    expect(raw.length).toBeGreaterThan(12_000);
  }, 2 * KAFKA_TEST_TIMEOUT_MS); // seven worker starts and a 12,000-event drain: ~40 s idle, minutes at load 20

  it.each(['kill-after-produce', 'kill-before-produce'] as const)('at-least-once, %s: no gap, re-emits counted', async (fault) => {
    const brokers = kafkaBrokers();
    const n = names(fault);
    await setupTopics(brokers, n);
    await produceEvents(brokers, n.input, new MsgpackCodec(), makeEvents(3_000, 200, ITEMS, 5));
    const cfg = config(n, 'at-least-once');
    const w = new ChildWorker(cfg, { FAULT: fault, FAULT_AT: '3' });
    await w.ready();
    const exit = await w.exit(300_000);
    expect(exit.signal).toBe('SIGKILL');
    expect(w.stdout.includes('PRODUCED')).toBe(fault === 'kill-after-produce');
    await drain(n, cfg);
    const v = verify(await readTopic(brokers, n.output, { isolation: 'read_uncommitted' }), await inputOffsets(brokers, n.input));
    console.log(`[alo ${fault}] inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated}`);
    expect(v.lost).toBe(0);
    if (fault === 'kill-after-produce') expect(v.duplicated).toBeGreaterThan(0);
    else expect(v.duplicated).toBe(0);
  }, KAFKA_TEST_TIMEOUT_MS);
});
