// RELIABILITY.md 15: a batch the worker cannot decompress (here: lz4 made unavailable, as on a platform without
// the codec's binary) never stops the worker or its other partitions: each of its records is dead-lettered
// (DECOMPRESS_FAILED, the compressed bytes on the batch's first), every other record is answered.
import { describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import { JsonCodec } from '../../../src/events/codec.js';
import { UNDECODABLE_MARKER } from '../../../streaming/kafka/compression.js';
import { RecordHeaders } from '../../../streaming/kafka/headers.js';
import { KafkaStreamWorker } from '../../../streaming/kafka/stream-worker.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { createTopics } from '../../../streaming/kafka/topics.js';
import { makeEvents } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { javaClient, KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, waitFor } from '../helpers.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

vi.mock('lz4-napi', () => ({
  compressFrame: async () => { throw new Error('lz4 binary missing (simulated)'); },
  decompressFrame: async () => { throw new Error('lz4 binary missing (simulated)'); },
}));

describe.skipIf(kafkaSkipped() || !inject('kafkaCanStartBrokers'))('Kafka worker, undecompressable batches', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  it('dead-letters every record of lz4 batches it cannot decompress and answers every gzip record, on every partition', async () => {
    const brokers = kafkaBrokers();
    const n = names('undecodable');
    await createTopics(brokers, [{ topic: n.input, partitions: 2 }, { topic: n.output, partitions: 2 }, { topic: n.dlq, partitions: 1 }]);
    const dir = mkdtempSync(join(tmpdir(), 'nextclick-undecodable-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const codec = new JsonCodec();
    // gzip, then lz4, then gzip again: the good records after the bad batches must still be answered.
    for (const [i, c] of (['gzip', 'lz4', 'gzip'] as const).entries()) {
      const file = join(dir, `${i}.tsv`);
      const events = makeEvents(300, 30, 20, 40 + i, `${c}${i}-`);
      writeFileSync(file, events.map((e) => `${e.sessionId}\t${codec.encode({ v: 1, ...e }).toString()}`).join('\n') + '\n');
      expect(await javaClient(['produce', brokers.join(','), n.input, c, file])).toContain('PRODUCED 300');
    }
    const worker = new KafkaStreamWorker(new HistoryScorer(20), testVocabulary(20), {
      brokers, inputTopic: n.input, outputTopic: n.output, deadLetterTopic: n.dlq, groupId: n.group, codec, pipeline: { k: 3 },
    });
    const crashes: unknown[] = [];
    worker.on('crash', (c) => crashes.push(c.error));
    onTestFinished(() => worker.close());
    await worker.start();
    expect(await waitFor(() => worker.stats().records >= 900, 300_000), `processed ${worker.stats().records}/900`).toBe(true);
    await worker.close();

    // The input as this process reads it: lz4 records are placeholders here too.
    const input = await readTopic(brokers, n.input);
    const key = (r: { partition: number; offset: string }) => `${r.partition}:${r.offset}`;
    const lz4 = new Set(input.filter((r) => r.value !== null && r.value.equals(UNDECODABLE_MARKER)).map(key));
    const good = new Set(input.filter((r) => !lz4.has(key(r))).map(key));
    const outputs = await readTopic(brokers, n.output);
    const dead = await readTopic(brokers, n.dlq);
    const at = (r: { headers: Record<string, string> }) => `${r.headers[RecordHeaders.inputPartition]}:${r.headers[RecordHeaders.inputOffset]}`;
    const withPayload = dead.filter((d) => d.value !== null);
    console.log(`[undecodable] inputs=${input.length} lz4=${lz4.size} gzip=${good.size} outputs=${outputs.length} deadLetters=${dead.length} withCompressedBytes=${withPayload.length} partitions=${new Set(input.map((r) => r.partition)).size} crashes=${crashes.length}`);
    expect(lz4.size).toBe(300);
    expect(good.size).toBe(600);
    expect(new Set(input.filter((r) => lz4.has(key(r))).map((r) => r.partition)).size).toBe(2);
    expect(outputs.map(at).sort()).toEqual([...good].sort());
    expect(dead.map(at).sort()).toEqual([...lz4].sort());
    expect(new Set(dead.map((d) => d.headers[RecordHeaders.deadLetterReason]))).toEqual(new Set(['DECOMPRESS_FAILED']));
    expect(dead[0]!.headers[RecordHeaders.deadLetterMessage]).toContain('lz4 binary missing (simulated)');
    // The first placeholder of each batch carries the compressed bytes as fetched: an LZ4 frame (magic 0x184D2204).
    expect(withPayload.length).toBeGreaterThan(0);
    for (const d of withPayload) expect(d.value!.readUInt32LE(0)).toBe(0x184d2204);
    expect(crashes).toEqual([]);
  });
});
