// examples/kafka-worker.ts, compiled by the build, run against the test broker with a saved GRU4Rec model: it
// recommends for every click through the public entry points and closes cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { saveGru4Rec } from '../../models/gru4rec/io.js';
import { trainGru4Rec } from '../../models/gru4rec/train.js';
import { buildCorpus } from '../../src/baselines/corpus.js';
import { MsgpackCodec } from '../../src/events/msgpack-codec.js';
import { generateSessions } from '../../src/synthetic/index.js';
import { readTopic } from '../../streaming/kafka/topic-reader.js';
import { kafkaBrokers, kafkaSkipped, names, produceEvents, setupTopics, waitFor } from '../streaming/helpers.js';

const root = resolve(import.meta.dirname, '../..');

describe.skipIf(kafkaSkipped())('examples/kafka-worker against the test broker', () => {
  it('loads a GRU4Rec directory, writes one recommendation per click, exits 0 on SIGTERM', async () => {
    const script = join(root, 'dist/examples/kafka-worker.js');
    expect(existsSync(script), 'dist/examples/kafka-worker.js (run npm run build)').toBe(true);
    const log = generateSessions({ items: 120, intents: 6, sessions: 200, seed: 11 });
    const corpus = await buildCorpus(log.train.map((s) => ({ items: s.items })));
    const model = await trainGru4Rec(corpus, { config: { layers: [8], epochs: 1, nSample: 16, batchSize: 16, validationFraction: 0, seed: 1 } });
    const dir = join(await mkdtemp(join(tmpdir(), 'nextclick-kafka-example-')), 'model');
    await saveGru4Rec(dir, model);

    const brokers = kafkaBrokers();
    const n = names('example');
    await setupTopics(brokers, n, 1);
    const child = spawn(process.execPath, [script, dir, brokers.join(','), n.input, n.output], {
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
      // A fresh transactional id per run; port 0 = any free port for the metrics endpoint.
      env: { ...process.env, HOSTNAME: `example-${randomUUID().slice(0, 8)}`, METRICS_PORT: '0', NEXTCLICK_BACKEND: 'cpu' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
    onTestFinished(async () => {
      if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
    });
    const running = await waitFor(() => stderr.includes('worker running') || child.exitCode !== null, 240_000);
    expect(running && child.exitCode === null, `worker did not start:\n${stderr.slice(-3000)}`).toBe(true);

    const items = log.train.slice(0, 3).flatMap((s, i) => s.items.slice(0, 2).map((item, j) => ({ sessionId: `s${i}`, itemId: item, timestamp: 1_700_000_000_000 + i * 10_000 + j * 1_000 })));
    const codec = new MsgpackCodec();
    await produceEvents(brokers, n.input, codec, items);
    const decode = (v: Buffer | null) => codec.decode(v!) as { sessionId: string; items: unknown[]; modelVersion: string };
    let outputs: ReturnType<typeof decode>[] = [];
    const delivered = await waitFor(async () => {
      outputs = (await readTopic(brokers, n.output, { isolation: 'read_committed', timeoutMs: 10_000 })).map((r) => decode(r.value));
      return outputs.length >= items.length || child.exitCode !== null;
    }, 240_000, 1_000);
    expect(delivered && child.exitCode === null, `${outputs.length}/${items.length} recommendations:\n${stderr.slice(-3000)}`).toBe(true);
    expect(outputs).toHaveLength(items.length);
    expect(new Set(outputs.map((o) => o.sessionId))).toEqual(new Set(['s0', 's1', 's2']));
    for (const o of outputs) {
      expect(o.items).toHaveLength(20);
      expect(o.modelVersion).toBe('gru4rec');
    }

    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(stderr).toContain('shutting down');
  }, 900_000);
});
