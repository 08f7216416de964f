// RELIABILITY.md 20: exactly-once that scales and fences (one transactional producer per input partition,
// id <app id>-<topic>-<partition>). Three workers share one topic: read_committed shows 0 lost, 0 duplicated.
// A worker SIGSTOPped past its session timeout while it holds partitions, then SIGCONTed: whatever it was
// doing cannot commit (its producers were fenced by the new owner), and the output stays exact.
import { describe, expect, it } from 'vitest';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { committedLag } from '../../../streaming/kafka/topics.js';
import { makeEvents } from '../fixtures/events.js';
import { ChildWorker, inputOffsets, KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, produceEvents, setupTopics, verify, waitFor } from '../helpers.js';

function config(n: ReturnType<typeof names>) {
  return {
    brokers: kafkaBrokers(), inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group,
    delivery: 'exactly-once', appId: n.group, items: 200, stepSize: 100, maxFetchBytes: 16 * 1024, delayMs: 2,
  };
}

async function drained(n: ReturnType<typeof names>, workers: ChildWorker[]): Promise<boolean> {
  return waitFor(async () => (await committedLag(kafkaBrokers(), n.group, n.input)) === 0 || workers.every((w) => !w.alive), 300_000, 500);
}

describe.skipIf(kafkaSkipped())('exactly-once across workers: per-partition transactional ids', { timeout: 2 * KAFKA_TEST_TIMEOUT_MS }, () => {
  it('three workers on one topic: every input exactly once (read_committed)', async () => {
    const brokers = kafkaBrokers();
    const n = names('eos-three');
    await setupTopics(brokers, n, 6);
    await produceEvents(brokers, n.input, new MsgpackCodec(), makeEvents(12_000, 600, 200, 23));
    const workers = [0, 1, 2].map(() => new ChildWorker(config(n)));
    for (const w of workers) await w.ready();
    expect(await drained(n, workers), workers.map((w) => w.stderr.slice(-500)).join('\n')).toBe(true);
    for (const w of workers) expect((await w.kill('SIGTERM')).code).toBe(0);
    const v = verify(await readTopic(brokers, n.output, { isolation: 'read_committed' }), await inputOffsets(brokers, n.input));
    const batches = workers.map((w) => w.batches);
    console.log(`[eos three workers] batches per worker=${batches.join('/')} inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated} outOfOrderSessions=${v.outOfOrderSessions}`);
    expect(batches.filter((b) => b > 0).length, 'the load is shared').toBeGreaterThanOrEqual(2);
    expect(v).toMatchObject({ inputs: 12_000, outputs: 12_000, lost: 0, duplicated: 0, outOfOrderSessions: 0 });
  });

  it('a worker paused past its session timeout (SIGSTOP) and resumed (SIGCONT) commits nothing of what it held', async () => {
    const brokers = kafkaBrokers();
    const n = names('eos-zombie');
    await setupTopics(brokers, n, 3);
    await produceEvents(brokers, n.input, new MsgpackCodec(), makeEvents(12_000, 600, 200, 29));
    const zombie = new ChildWorker(config(n));
    await zombie.ready();
    expect(await zombie.until(() => zombie.batches >= 5, 180_000)).toBe(true);
    const other = new ChildWorker(config(n));
    await other.ready();
    // Let the group settle with both, then freeze the first one mid-stream.
    expect(await zombie.until(() => zombie.stdout.split('\n').filter((l) => l.startsWith('REBALANCE')).length >= 2, 180_000)).toBe(true);
    expect(await zombie.until(() => zombie.batches >= 10, 180_000)).toBe(true);
    zombie.proc.kill('SIGSTOP');
    const frozenAt = zombie.batches;
    const rebalances = () => other.stdout.split('\n').filter((l) => /^REBALANCE assigned=\d/.test(l)).length;
    const before = rebalances();
    // The other worker takes the zombie's partitions over once the session timeout (6 s) evicts it.
    expect(await other.until(() => rebalances() > before, 180_000), other.stdout.slice(-1000)).toBe(true);
    const otherBefore = other.batches;
    expect(await other.until(() => other.batches >= otherBefore + 10, 180_000)).toBe(true);
    zombie.proc.kill('SIGCONT');
    expect(await drained(n, [zombie, other])).toBe(true);
    const afterWake = zombie.stdout.split('\n').filter((l) => l.startsWith('BATCH ')).length - frozenAt;
    for (const w of [zombie, other]) if (w.alive) await w.kill('SIGTERM');
    const v = verify(await readTopic(brokers, n.output, { isolation: 'read_committed' }), await inputOffsets(brokers, n.input));
    const fenced = zombie.stdout.split('\n').filter((l) => l.startsWith('CRASH') && /fenc|epoch/i.test(l)).length;
    console.log(`[eos zombie] frozen after ${frozenAt} batches; after SIGCONT it delivered ${afterWake} (after rejoining) failed batches with a fencing error=${fenced}; inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated}`);
    expect(v).toMatchObject({ inputs: 12_000, outputs: 12_000, lost: 0, duplicated: 0, outOfOrderSessions: 0 });
  });
});
