// `nextclick stream` without a broker: no secrets in errors, model version = kind@content hash, error logs
// carry message and code.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { modelContentVersion, redactCredentials } from '../../src/cli/commands/stream.js';
import { main } from '../../src/cli/main.js';
import { createStderrLogger } from '../../src/instrumentation/typed-emitter.js';

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
  let err = '';
  (stderr as unknown as PassThrough).on('data', (d: Buffer) => { err += d.toString(); });
  return { io: { stdout, stderr }, err: () => err };
}

describe('nextclick stream options (no broker)', () => {
  it('never echoes a password given in --brokers', async () => {
    const t = io();
    const code = await main(['stream', '--model', 'm', '--brokers', 'alice:hunter2@kafka-1:9093,kafka-2:9093', '--input-topic', 'a', '--output-topic', 'b'], t.io);
    expect(code).toBe(2);
    expect(t.err()).not.toContain('hunter2');
    expect(t.err()).not.toContain('alice');
    expect(t.err()).toContain('***@kafka-1:9093');
    expect(redactCredentials('sasl://bob:s3cret@host:9092')).toBe('sasl://***@host:9092');
  });

  it('model version is <kind>@<content hash>: equal for equal content anywhere, different for different content, no path', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nextclick-version-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    for (const d of ['a', 'b']) {
      mkdirSync(join(root, d, 'weights'), { recursive: true });
      writeFileSync(join(root, d, 'manifest.json'), '{"kind":"sr"}');
      writeFileSync(join(root, d, 'weights', 'w.bin'), Buffer.from([1, 2, 3]));
    }
    const a = await modelContentVersion('sr', join(root, 'a'));
    expect(a).toMatch(/^sr@[0-9a-f]{12}$/);
    expect(await modelContentVersion('sr', join(root, 'b'))).toBe(a);
    writeFileSync(join(root, 'b', 'weights', 'w.bin'), Buffer.from([1, 2, 4]));
    expect(await modelContentVersion('sr', join(root, 'b'))).not.toBe(a);
  });

  it('error logs carry the message and code of errors without toJSON (kafkajs errors)', () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true; });
    try {
      const err = Object.assign(new Error('LZ4 compression not implemented'), { name: 'KafkaJSNotImplemented', retriable: false, type: 'UNSUPPORTED' });
      createStderrLogger('info').error({ err }, 'batch failed');
    } finally {
      spy.mockRestore();
    }
    const logged = JSON.parse(lines[0]!) as { err: Record<string, unknown>; msg: string };
    expect(logged.err).toMatchObject({ name: 'KafkaJSNotImplemented', message: 'LZ4 compression not implemented', retriable: false, type: 'UNSUPPORTED' });
    expect(logged.msg).toBe('batch failed');
  });
});
