// RELIABILITY.md 14: input batches of every codec, written by the Apache Kafka Java producer (the broker's own
// jars, not code of this project), are each answered; every output codec is readable by the Java consumer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { JsonCodec } from '../../../src/events/codec.js';
import { registerCompressionCodecs, type CompressionName } from '../../../streaming/kafka/compression.js';
import { KafkaStreamWorker } from '../../../streaming/kafka/stream-worker.js';
import { readTopic } from '../../../streaming/kafka/topic-reader.js';
import { createTopics } from '../../../streaming/kafka/topics.js';
import { makeEvents } from '../fixtures/events.js';
import { HistoryScorer, testVocabulary } from '../fixtures/scorers.js';
import { inputOffsets, javaClient, KAFKA_TEST_TIMEOUT_MS, kafkaBrokers, kafkaSkipped, names, verify, waitFor } from '../helpers.js';

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

/** Counts the batches kafkajs decompresses per codec (wraps the registered codecs). */
function countDecompressedBatches(): Record<string, number> {
  registerCompressionCodecs();
  const counts: Record<string, number> = {};
  const types = { gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD };
  const registry = CompressionCodecs as Record<number, () => { decompress: (b: Buffer) => Promise<Buffer> }>;
  for (const [name, type] of Object.entries(types)) {
    const original = registry[type]!;
    counts[name] = 0;
    registry[type] = () => {
      const codec = original();
      return { ...codec, decompress: (b: Buffer) => { counts[name]!++; return codec.decompress(b); } };
    };
    onTestFinished(() => { registry[type] = original; });
  }
  return counts;
}

describe.skipIf(kafkaSkipped() || !inject('kafkaCanStartBrokers'))('Kafka compression: every codec in, every codec out, against the Java client', { timeout: KAFKA_TEST_TIMEOUT_MS }, () => {
  it('answers every record of gzip/snappy/lz4/zstd batches from the Java producer, and the Java consumer reads every output codec', async () => {
    const brokers = kafkaBrokers();
    const n = names('codecs');
    await createTopics(brokers, [{ topic: n.input, partitions: 3 }, { topic: n.dlq, partitions: 1 }, ...CODECS.map((c) => ({ topic: `${n.output}-${c}`, partitions: 3 }))]);
    const dir = mkdtempSync(join(tmpdir(), 'nextclick-codecs-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const codec = new JsonCodec();
    const perCodec = 400;
    for (const [i, c] of CODECS.entries()) {
      const events = makeEvents(perCodec, 40, 50, 21 + i, `${c}-`);
      const file = join(dir, `${c}.tsv`);
      writeFileSync(file, events.map((e) => `${e.sessionId}\t${codec.encode({ v: 1, ...e }).toString()}`).join('\n') + '\n');
      expect(await javaClient(['produce', brokers.join(','), n.input, c, file])).toContain(`PRODUCED ${perCodec}`);
    }
    const total = perCodec * CODECS.length;
    const batches = countDecompressedBatches();

    // One worker per output codec, each its own group over the same input.
    const workers = CODECS.map((c) => new KafkaStreamWorker(new HistoryScorer(50), testVocabulary(50), {
      brokers, inputTopic: n.input, outputTopic: `${n.output}-${c}`, deadLetterTopic: n.dlq, groupId: `${n.group}-${c}`,
      codec, compression: c as CompressionName, pipeline: { k: 3 },
    }));
    for (const w of workers) onTestFinished(() => w.close());
    for (const w of workers) await w.start();
    const done = await waitFor(() => workers.every((w) => w.stats().records >= total), 300_000);
    expect(done, `processed ${workers.map((w) => w.stats().records).join('/')} of ${total}`).toBe(true);
    for (const w of workers) await w.close();

    console.log(`[codecs in] decompressed batches ${JSON.stringify(batches)}`);
    for (const c of CODECS) expect(batches[c], `${c} batches decompressed`).toBeGreaterThan(0);
    const expected = await inputOffsets(brokers, n.input);
    expect(expected).toHaveLength(total);
    expect(workers.map((w) => w.stats().deadLetters)).toEqual([0, 0, 0, 0]);
    for (const c of CODECS) {
      const v = verify(await readTopic(brokers, `${n.output}-${c}`), expected);
      const java = (await javaClient(['read', brokers.join(','), `${n.output}-${c}`, String(total), '120000'])).split('\n');
      const javaValues = java.slice(1).filter((l) => l.length > 0).map((l) => JSON.parse(l) as { sessionId: string; items: number[] });
      console.log(`[codecs out ${c}] inputs=${v.inputs} outputs=${v.outputs} lost=${v.lost} duplicated=${v.duplicated} javaRead=${javaValues.length}`);
      expect(v).toMatchObject({ inputs: total, outputs: total, lost: 0, duplicated: 0 });
      expect(java[0]).toBe(`READ ${total}`);
      expect(javaValues.every((x) => typeof x.sessionId === 'string' && x.items.length === 3)).toBe(true);
    }
  });
});
