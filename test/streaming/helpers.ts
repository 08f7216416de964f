import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { inject, onTestFinished } from 'vitest';
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

/** A worker in a child process (the fixture bundle), killable with SIGKILL. Registers its own cleanup. */
export class ChildWorker {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout = '';
  stderr = '';

  constructor(config: Record<string, unknown>, env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [inject('kafkaWorkerBundle'), JSON.stringify(config)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => { this.stdout += d.toString(); });
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((res) => this.proc.once('exit', (code, signal) => res({ code, signal })));
    onTestFinished(async () => { if (this.alive) { this.proc.kill('SIGKILL'); await this.exited; } });
    if (process.env['DEBUG_CHILD']) this.exited.then(() => process.stderr.write(`--- child ${this.proc.pid}\n${this.stdout}${this.stderr.slice(-3000)}\n`));
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Batches delivered so far (lines printed by the fixture). */
  get batches(): number {
    return this.stdout.split('\n').filter((l) => l.startsWith('BATCH ')).length;
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    const ok = await waitFor(() => this.stdout.includes('READY') || !this.alive, timeoutMs, 100);
    if (!ok || !this.alive) throw new Error(`worker did not start: ${this.stderr.slice(-2000)}`);
  }

  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.proc.kill(signal);
    return this.exited;
  }
}

export type { ReadRecord };
export type { ClickEvent, Codec };
