import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ClosedError, InvalidOptionError, NextclickError } from '../../src/errors.js';
import { LIVE_EVENT_TIME_BOUNDS, validateClickEvent, type ClickEvent, type EventValidationOptions, type ItemId } from '../../src/events/click-event.js';
import type { SessionRecommendation } from '../../src/pipeline/click-pipeline.js';
import type { RecommenderOptions } from '../../src/scoring/recommender.js';
import { isSerializedError, reviveError, type PoolReply, type PoolRequest, type PoolWorkerData } from './protocol.js';

export interface RecommenderPoolOptions extends Omit<RecommenderOptions, 'logger'> {
  /** Worker threads, each with its own model copy and session store. @defaultValue os.availableParallelism() */
  readonly workers?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Shard {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  queueIds: number[];
  queueEvents: ClickEvent[];
  dead?: NextclickError;
}

/** FNV-1a: a stable, fast string hash so a session always lands on the same worker. */
function shardOf(key: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % n;
}

/** The compiled worker entry. Under a TypeScript test runner the source is .ts, so use the built copy in dist/. */
function workerEntry(): URL {
  const own = new URL('./pool-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(own))) return own;
  const built = new URL('../../dist/streaming/pool/pool-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new NextclickError('INTERNAL', 'the pool worker entry is not built; run `npm run build`');
}

/**
 * The embedded SDK on all cores: the same API as {@link Recommender}, with sessions sharded by key over
 * worker threads. Each worker loads its own copy of the model and keeps the state of its sessions, so no
 * state is shared and per-session order is kept (one session, one thread). Events that arrive in the same
 * tick are sent to a worker in one message and scored there in one micro-batch.
 */
export class RecommenderPool {
  private readonly shards: Shard[];
  private nextId = 1;
  private flushScheduled = false;
  private closing: Promise<void> | undefined;

  private constructor(shards: Shard[], private readonly validation: EventValidationOptions) {
    this.shards = shards;
  }

  /** Number of worker threads. */
  get size(): number {
    return this.shards.length;
  }

  static async load(modelDir: string, options: RecommenderPoolOptions = {}): Promise<RecommenderPool> {
    const n = options.workers ?? Math.max(1, availableParallelism());
    if (!Number.isInteger(n) || n < 1) throw new InvalidOptionError('workers', `workers must be an integer ≥ 1, got ${String(n)}`);
    const { workers: _w, ...rest } = options;
    const data: PoolWorkerData = { modelDir, options: rest };
    const entry = workerEntry();
    const shards: Shard[] = [];
    const started = Array.from({ length: n }, () => {
      const worker = new Worker(entry, { workerData: data });
      const shard: Shard = { worker, pending: new Map(), queueIds: [], queueEvents: [] };
      shards.push(shard);
      return new Promise<void>((resolve, reject) => {
        const onFirst = (m: PoolReply) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'init-failed') reject(reviveError(m.error));
        };
        worker.once('message', onFirst);
        worker.once('error', reject);
      });
    });
    const pool = new RecommenderPool(shards, { ...LIVE_EVENT_TIME_BOUNDS, ...options.validation });
    try {
      await Promise.all(started);
    } catch (err) {
      await Promise.allSettled(shards.map((s) => s.worker.terminate()));
      throw err;
    }
    for (const s of shards) pool.attach(s);
    return pool;
  }

  /** Adds one click; resolves with the session's top-k (see Recommender.observe). */
  observe(event: ClickEvent | Record<string, unknown>): Promise<SessionRecommendation | undefined> {
    if (this.closing) return Promise.reject(new ClosedError('RecommenderPool'));
    let valid: ClickEvent;
    try {
      valid = validateClickEvent(event, this.validation);
    } catch (err) {
      return Promise.reject(err);
    }
    const shard = this.shards[shardOf(valid.sessionId, this.shards.length)]!;
    if (shard.dead) return Promise.reject(shard.dead);
    const id = this.nextId++;
    const p = new Promise<SessionRecommendation | undefined>((resolve, reject) => shard.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    shard.queueIds.push(id);
    shard.queueEvents.push(valid);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return p;
  }

  /** Top-k for a live session without a new event. */
  recommend(sessionId: string, options: { k?: number; exclude?: ItemId[]; excludeSeen?: boolean } = {}): Promise<SessionRecommendation | undefined> {
    return this.request(shardOf(sessionId, this.shards.length), (id) => ({ type: 'recommend', id, sessionId, ...options })) as Promise<SessionRecommendation | undefined>;
  }

  /** Per-worker pipeline statistics. */
  stats(): Promise<unknown[]> {
    return Promise.all(this.shards.map((_, i) => this.request(i, (id) => ({ type: 'stats', id }))));
  }

  /** Flushes and closes every worker's recommender, then stops the threads. Same promise on every call. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.flush();
      const results = await Promise.allSettled(this.shards.map((_, i) => (this.shards[i]!.dead ? Promise.resolve() : this.request(i, (id) => ({ type: 'close', id }), true))));
      await Promise.allSettled(this.shards.map((s) => s.worker.terminate()));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    })();
    return this.closing;
  }

  private request(shardIx: number, make: (id: number) => PoolRequest, allowClosing = false): Promise<unknown> {
    if (this.closing && !allowClosing) return Promise.reject(new ClosedError('RecommenderPool'));
    const shard = this.shards[shardIx]!;
    if (shard.dead) return Promise.reject(shard.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      shard.pending.set(id, { resolve, reject });
      shard.worker.postMessage(make(id));
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const s of this.shards) {
      if (s.queueIds.length === 0) continue;
      const msg: PoolRequest = { type: 'observe', ids: s.queueIds, events: s.queueEvents };
      s.queueIds = [];
      s.queueEvents = [];
      s.worker.postMessage(msg);
    }
  }

  private attach(shard: Shard): void {
    const settle = (id: number, value: unknown, error?: unknown) => {
      const p = shard.pending.get(id);
      if (!p) return;
      shard.pending.delete(id);
      if (error !== undefined) p.reject(error);
      else p.resolve(value);
    };
    shard.worker.on('message', (m: PoolReply) => {
      if (m.type === 'results') {
        m.ids.forEach((id, i) => {
          const r = m.results[i];
          if (isSerializedError(r)) settle(id, undefined, reviveError(r));
          else settle(id, r ?? undefined);
        });
      } else if (m.type === 'result') {
        settle(m.id, m.result ?? undefined, m.error ? reviveError(m.error) : undefined);
      }
    });
    const die = (why: string) => {
      if (shard.dead) return;
      shard.dead = new NextclickError('INTERNAL', `a recommender worker thread stopped (${why}); its sessions are lost — create a new pool`);
      for (const p of shard.pending.values()) p.reject(shard.dead);
      shard.pending.clear();
    };
    shard.worker.on('error', (err) => die(err.message));
    shard.worker.on('exit', (code) => die(`exit code ${code}`));
  }
}
