import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { inject, onTestFinished } from 'vitest';
import { ensureKafkaClasspath, findJava, projectRoot } from '../../scripts/kafka/broker.mjs';
import type { ClickEvent } from '../../src/events/click-event.js';
import type { Codec } from '../../src/events/codec.js';
import { RecordHeaders } from '../../streaming/kafka/headers.js';
import { readTopic, type ReadRecord } from '../../streaming/kafka/topic-reader.js';
import { createTopics, produceEvents } from '../../streaming/kafka/topics.js';

export const kafkaBrokers = (): string[] => inject('kafkaBrokers').split(',').filter((b) => b.length > 0);
export const kafkaSkipped = (): boolean => kafkaBrokers().length === 0;

/** Unique topic/group names per test: tests never see each other's data. */
export function names(label: string): { input: string; output: string; dlq: string; group: string } {
  const id = `${label}-${randomUUID().slice(0, 8)}`;
  return { input: `in-${id}`, output: `out-${id}`, dlq: `dlq-${id}`, group: `g-${id}` };
}

/** Creates the test's topics (3 input partitions by default). */
export async function setupTopics(brokers: string[], n: ReturnType<typeof names>, partitions = 3): Promise<void> {
  await createTopics(brokers, [{ topic: n.input, partitions }, { topic: n.output, partitions }, { topic: n.dlq, partitions: 1 }]);
}

export { produceEvents };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `everyMs` until true or `timeoutMs` passed; returns whether it became true. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}

export interface Verification {
  inputs: number;
  outputs: number;
  lost: number;
  duplicated: number;
  /** Sessions whose outputs are not in input-offset order. */
  outOfOrderSessions: number;
}

/**
 * Matches every input offset (from output headers) to its output: counts lost, duplicated and
 * out-of-order. `expected` lists (partition, offset) of the inputs that must have an output.
 */
export function verify(outputs: readonly ReadRecord[], expected: readonly { partition: number; offset: string }[]): Verification {
  const seen = new Map<string, number>();
  const lastBySession = new Map<string, bigint>();
  let outOfOrder = new Set<string>();
  for (const r of outputs) {
    const key = `${r.headers[RecordHeaders.inputPartition]}:${r.headers[RecordHeaders.inputOffset]}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const off = BigInt(r.headers[RecordHeaders.inputOffset] ?? '-1');
    const session = r.key ?? '';
    const prev = lastBySession.get(session);
    if (prev !== undefined && off <= prev && (seen.get(key) ?? 0) === 1) outOfOrder.add(session);
    lastBySession.set(session, off);
  }
  let lost = 0;
  for (const e of expected) if (!seen.has(`${e.partition}:${e.offset}`)) lost++;
  let duplicated = 0;
  for (const c of seen.values()) if (c > 1) duplicated += c - 1;
  return { inputs: expected.length, outputs: outputs.length, lost, duplicated, outOfOrderSessions: outOfOrder.size };
}

/** The (partition, offset) of every record in the input topic. */
export async function inputOffsets(brokers: string[], topic: string): Promise<{ partition: number; offset: string }[]> {
  return (await readTopic(brokers, topic, { isolation: 'read_uncommitted' })).map((r) => ({ partition: r.partition, offset: r.offset }));
}

/**
 * Per-test limit of Kafka integration tests. Their waits have ceilings of their own (minutes); this limit only
 * has to exceed their sum on a saturated 2-core machine (load 8–21 seen), so a slow run never fails on time.
 */
export const KAFKA_TEST_TIMEOUT_MS = 600_000;

/** Resolves once `cond` holds after an `event` of `emitter` (checked at once, then on every event), or false after `ceilingMs`. */
export function waitForEvent(emitter: { on(e: string, f: () => void): unknown; off(e: string, f: () => void): unknown }, events: readonly string[], cond: () => boolean, ceilingMs: number): Promise<boolean> {
  if (cond()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = () => { if (cond()) finish(true); };
    const timer = setTimeout(() => finish(cond()), ceilingMs);
    const finish = (v: boolean) => {
      clearTimeout(timer);
      for (const e of events) emitter.off(e, check);
      resolve(v);
    };
    for (const e of events) emitter.on(e, check);
  });
}

/** A worker in a child process (the fixture bundle), killable with SIGKILL. Registers its own cleanup. */
export class ChildWorker {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout = '';
  stderr = '';
  /** Emits `line` for each stdout line and `exit` once, so waits are driven by the child's output, not by polling. */
  private readonly events = new EventEmitter();
  private batchLines = 0;
  private partial = '';

  constructor(config: Record<string, unknown>, env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [inject('kafkaWorkerBundle'), JSON.stringify(config)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      this.stdout += text;
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('BATCH ')) this.batchLines++;
      if (lines.length > 0) this.events.emit('line');
    });
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((res) => this.proc.once('exit', (code, signal) => { res({ code, signal }); this.events.emit('exit'); }));
    onTestFinished(async () => { if (this.alive) { this.proc.kill('SIGKILL'); await this.exited; } });
    if (process.env['DEBUG_CHILD']) this.exited.then(() => process.stderr.write(`--- child ${this.proc.pid}\n${this.stdout}${this.stderr.slice(-3000)}\n`));
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Batches delivered so far (lines printed by the fixture). */
  get batches(): number {
    return this.batchLines;
  }

  /** Resolves once `cond` holds or the child exits (checked on each output line), false after `ceilingMs`. */
  until(cond: () => boolean, ceilingMs: number): Promise<boolean> {
    return waitForEvent(this.events, ['line', 'exit'], () => cond() || !this.alive, ceilingMs).then(() => cond());
  }

  async ready(ceilingMs = 180_000): Promise<void> {
    const ok = await this.until(() => this.stdout.includes('READY'), ceilingMs);
    if (!ok || !this.alive) throw new Error(`worker did not start within ${ceilingMs} ms: ${this.stderr.slice(-2000)}`);
  }

  /** The exit, or an error after `ceilingMs` (a child that never exits must not hang the test). */
  async exit(ceilingMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const ok = await waitForEvent(this.events, ['exit'], () => !this.alive, ceilingMs);
    if (!ok) throw new Error(`worker did not exit within ${ceilingMs} ms: ${this.stdout.slice(-1000)}${this.stderr.slice(-1000)}`);
    return this.exited;
  }

  async kill(signal: NodeJS.Signals, ceilingMs = 120_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.proc.kill(signal);
    return this.exit(ceilingMs);
  }
}

export type { ReadRecord };
export type { ClickEvent, Codec };

/** Runs test/streaming/fixtures/JavaClient.java with the broker's jars; resolves with its stdout. */
export async function javaClient(args: string[], ceilingMs = 240_000): Promise<string> {
  const libs = await ensureKafkaClasspath();
  const java = findJava()!.java;
  const child = spawn(java, ['-cp', `${libs}/*`, join(projectRoot, 'test/streaming/fixtures/JavaClient.java'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), ceilingMs);
  const code = await new Promise<number | null>((res) => child.once('exit', res));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`java ${args[0]} exited ${code}: ${err.slice(-2000)}`);
  return out;
}

