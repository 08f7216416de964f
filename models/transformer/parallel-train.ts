/**
 * Parallel transformer training (config `workers` > 1): N worker threads (train-worker.ts) share the weights
 * and the optimiser state in SharedArrayBuffers and each applies its own steps to them without locks, as
 * Hogwild! (Niu et al. 2011) does for SGD. Item rows rarely collide between two concurrent steps; the dense
 * weights do, and a lost update there costs less than the second core gains. The coordinator (train.ts) keeps
 * the epoch loop: it deals each epoch's batches out round-robin, draws the progress bar, stops the workers
 * through a shared flag, and validates and checkpoints between epochs, when the workers are idle.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../../src/backend/select-backend.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { SessionArrays } from '../training/session-batcher.js';
import type { TransformerConfig } from './config.js';
import type { EpochSchedule } from './train-step.js';

/** Hands out Float32Arrays over new SharedArrayBuffers and remembers them, in allocation order. */
export function sharedAllocator(): { allocate: (length: number) => Float32Array; buffers: SharedArrayBuffer[] } {
  const buffers: SharedArrayBuffer[] = [];
  return { buffers, allocate: (n) => { const b = new SharedArrayBuffer(4 * n); buffers.push(b); return new Float32Array(b); } };
}

/** Replays a {@link sharedAllocator}'s buffers in the same order (a worker mapping the same arrays). */
export function sharedArrays(buffers: readonly SharedArrayBuffer[]): (length: number) => Float32Array {
  let next = 0;
  return (n) => {
    const b = buffers[next++];
    if (!b || b.byteLength !== 4 * n) throw new Error(`parallel training: shared array ${next - 1} does not match (${b?.byteLength ?? 'none'} bytes for ${n} floats)`);
    return new Float32Array(b);
  };
}

/** What each worker starts with. */
export interface WorkerData {
  readonly config: TransformerConfig;
  readonly itemCount: number;
  readonly paramBuffers: SharedArrayBuffer[];
  readonly optimizerBuffers: SharedArrayBuffer[];
  readonly items: Int32Array;
  readonly offsets: Int32Array;
  readonly times?: Float64Array;
  readonly support: Float64Array;
  readonly seed: number;
  readonly backend: BackendName;
  /** Non-zero: stop before the next step. */
  readonly stop: Int32Array;
}

/** One epoch's share: batches as indices into the windows both sides build from the same data. */
export interface ToWorker {
  readonly schedule: EpochSchedule;
  readonly batches: Int32Array[];
}

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'progress' | 'done'; readonly events: number; readonly lossSum: number }
  | { readonly type: 'error'; readonly message: string };

function sharedCopy<T extends Int32Array | Float64Array>(a: T): T {
  const Ctor = a.constructor as { new (b: SharedArrayBuffer): T };
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

/** The worker script next to this module; only the built package has it as JavaScript. */
function workerScript(): string {
  const path = fileURLToPath(new URL('./train-worker.js', import.meta.url));
  if (!existsSync(path)) throw new InvalidOptionError('workers', `parallel training (workers > 1) needs the built package: ${path} is missing (run npm run build, or use workers=1)`);
  return path;
}

/** Running workers; {@link trainEpoch} resolves when every worker has finished its share. */
export class ParallelTrainer {
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));
  private readonly workers: Worker[] = [];
  private failure: Error | undefined;
  private pending: { left: number; events: number; lossSum: number; onProgress: (events: number, lossSum: number) => void; resolve: (r: { events: number; lossSum: number }) => void; reject: (e: Error) => void } | undefined;

  private constructor() {}

  /** Starts `config.workers` threads on `backend` and waits until each has its backend and windows. */
  static async start(init: { config: TransformerConfig; itemCount: number; paramBuffers: SharedArrayBuffer[]; optimizerBuffers: SharedArrayBuffer[]; data: SessionArrays & { times?: Float64Array }; support: Float64Array; backend: BackendName; seeds: readonly number[] }): Promise<ParallelTrainer> {
    const t = new ParallelTrainer();
    const script = workerScript();
    const items = sharedCopy(init.data.items), offsets = sharedCopy(init.data.offsets);
    const times = init.data.times ? sharedCopy(init.data.times) : undefined;
    const ready: Promise<void>[] = [];
    for (let i = 0; i < init.config.workers; i++) {
      const data: WorkerData = { config: init.config, itemCount: init.itemCount, paramBuffers: init.paramBuffers, optimizerBuffers: init.optimizerBuffers, items, offsets, ...(times ? { times } : {}), support: init.support, seed: init.seeds[i]!, backend: init.backend, stop: t.stopFlag };
      const worker = new Worker(script, { workerData: data });
      t.workers.push(worker);
      ready.push(new Promise<void>((resolve, reject) => {
        worker.on('message', (m: FromWorker) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'error') { const e = new Error(`transformer training worker ${i} failed: ${m.message}`); reject(e); t.fail(e); }
          else t.report(m.type, m.events, m.lossSum);
        });
        worker.on('error', (e) => { reject(e); t.fail(e); });
        worker.on('exit', (code) => { if (code !== 0) { const e = new Error(`transformer training worker ${i} exited with code ${code}`); reject(e); t.fail(e); } });
      }));
    }
    try { await Promise.all(ready); } catch (e) { await t.close(); throw e; }
    return t;
  }

  /** Trains one epoch: batch k goes to worker k mod N. */
  trainEpoch(batches: readonly (readonly number[])[], schedule: EpochSchedule, onProgress: (events: number, lossSum: number) => void): Promise<{ events: number; lossSum: number }> {
    if (this.failure) return Promise.reject(this.failure);
    Atomics.store(this.stopFlag, 0, 0);
    return new Promise((resolve, reject) => {
      this.pending = { left: this.workers.length, events: 0, lossSum: 0, onProgress, resolve, reject };
      this.workers.forEach((w, i) => {
        const share = batches.filter((_, k) => k % this.workers.length === i).map((b) => Int32Array.from(b));
        w.postMessage({ schedule, batches: share } satisfies ToWorker);
      });
    });
  }

  /** Asks every worker to stop before its next step (the epoch then resolves with what was trained). */
  stop(): void {
    Atomics.store(this.stopFlag, 0, 1);
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private report(type: 'progress' | 'done', events: number, lossSum: number): void {
    const p = this.pending;
    if (!p) return;
    p.events += events;
    p.lossSum += lossSum;
    p.onProgress(p.events, p.lossSum);
    if (type === 'done' && --p.left === 0) {
      this.pending = undefined;
      p.resolve({ events: p.events, lossSum: p.lossSum });
    }
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.stop();
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }
}
