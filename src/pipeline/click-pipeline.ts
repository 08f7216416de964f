import { ClosedError, NextclickError } from '../errors.js';
import type { ClickEvent, ItemId } from '../events/click-event.js';
import { noopLogger, TypedEmitter, type Logger } from '../instrumentation/typed-emitter.js';
import type { Scorer } from '../scoring/scorer.js';
import { topK, type ItemFilter } from '../scoring/top-k.js';
import type { SessionState } from '../sessions/session-state.js';
import { Sessionizer, type IngestOutcome, type SessionizerEvents } from '../sessions/sessionizer.js';
import { OOV, type ItemVocabulary } from '../vocab/item-vocabulary.js';
import { pipelineDefaults, validatePipelineOptions, type PipelineOptions } from './pipeline-options.js';

/** A ranked list of items for one session, as emitted to sinks (Kafka, the caller, the evaluator). */
export interface SessionRecommendation {
  readonly sessionId: string;
  /** External item ids, best first. */
  readonly items: ItemId[];
  readonly scores: number[];
  /** Event time (ms) of the event that triggered this recommendation. */
  readonly eventTime: number;
  readonly modelVersion: string;
}

export interface PipelineInput<M = undefined> {
  readonly event: ClickEvent;
  /** Carried through untouched (a Kafka offset, an evaluation target...). */
  readonly meta: M;
}

/** The result for one input event. `recommendation` is absent when nothing could be recommended. */
export interface PipelineOutput<M = undefined> {
  readonly event: ClickEvent;
  readonly meta: M;
  /** What the Sessionizer did, or `rejected` when the item was unknown under `oov: 'error'`. */
  readonly outcome: IngestOutcome | 'rejected';
  readonly recommendation?: SessionRecommendation;
  readonly error?: NextclickError;
}

/** Called with the full score row of each scored event (used by the replay evaluator). */
export type ScoreHook<M> = (output: PipelineOutput<M>, session: SessionState, scores: Float32Array, rowOffset: number, itemCount: number) => void;

export interface PipelineEvents extends SessionizerEvents {
  /** A micro-batch was scored. */
  'batch:scored': { readonly events: number; readonly sessions: number; readonly ms: number };
}

export interface PipelineStats {
  events: number;
  recommendations: number;
  outOfVocabulary: number;
  rejected: number;
  batches: number;
}

/**
 * The one path from click events to recommendations: vocabulary lookup → Sessionizer → batched model step
 * → top-k with filters. Replay, the embedded SDK and the Kafka worker all drive this class; only the source
 * and the sink differ.
 *
 * `process` handles a batch of events in order; within it, a session never has two events in one model call
 * (the batch is cut into rounds), so per-session order is kept. `push` adds micro-batching for callers that
 * hand in one event at a time.
 */
export class ClickPipeline extends TypedEmitter<PipelineEvents> {
  readonly sessionizer: Sessionizer;
  readonly k: number;
  private scorer: Scorer;
  private vocabulary: ItemVocabulary;
  private readonly opts: PipelineOptions;
  private readonly logger: Logger;
  private blocked: Set<number> = new Set();
  private allowed: Set<number> | undefined;
  private modelVersion: string;
  /** An item id of the latest event: recommendations come back in its type (strings stay strings, numbers stay numbers). */
  private idExample: ItemId | undefined;
  private readonly counters: PipelineStats = { events: 0, recommendations: 0, outOfVocabulary: 0, rejected: 0, batches: 0 };
  private queue: { input: PipelineInput<unknown>; resolve: (o: PipelineOutput<unknown>) => void; reject: (e: unknown) => void }[] = [];
  /** Cancels the armed batch timer (a timeout or an immediate), if any. */
  private disarm: (() => void) | undefined;
  /** A model step is running; events queue until it ends and then go in the next step. */
  private busy = false;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(scorer: Scorer, vocabulary: ItemVocabulary, options: PipelineOptions = {}) {
    super((err, event) => this.logger.error({ err, event }, 'pipeline listener threw'));
    validatePipelineOptions(options);
    this.opts = options;
    this.logger = options.logger ?? noopLogger;
    this.k = options.k ?? pipelineDefaults.k;
    this.scorer = scorer;
    this.vocabulary = vocabulary;
    this.modelVersion = options.modelVersion ?? scorer.name;
    this.sessionizer = new Sessionizer(options.sessions);
    this.sessionizer.on('session:closed', (p) => {
      // The model frees the session's state (e.g. its backend slot) before listeners see it closed.
      this.scorer.release?.([p.session]);
      this.emit('session:closed', p);
    });
    this.resolveFilters();
  }

  get model(): Scorer {
    return this.scorer;
  }

  stats(): PipelineStats & ReturnType<Sessionizer['stats']> {
    return { ...this.counters, ...this.sessionizer.stats() };
  }

  /**
   * Swaps in a new model without stopping (hot swap). Live sessions keep their items; their model state is
   * cleared so the new model rebuilds it from the window on the next event.
   */
  async swapModel(scorer: Scorer, vocabulary: ItemVocabulary, modelVersion = scorer.name): Promise<Scorer> {
    // Wait for the in-flight batch so no step mixes two models.
    while (this.busy) await this.running;
    const old = this.scorer;
    const oldVocab = this.vocabulary;
    this.scorer = scorer;
    this.vocabulary = vocabulary;
    this.modelVersion = modelVersion;
    for (const s of this.sessionizer.values()) {
      // Re-map dense indices through external ids; items unknown to the new model drop out.
      const remapped: number[] = [];
      const times: number[] = [];
      s.items.forEach((ix, i) => {
        const n = vocabulary.indexOf(oldVocab.idOf(ix));
        if (n !== OOV) { remapped.push(n); times.push(s.times[i]!); }
      });
      s.items.splice(0, s.items.length, ...remapped);
      s.times.splice(0, s.times.length, ...times);
      s.modelState = undefined;
    }
    this.resolveFilters();
    return old;
  }

  /** Processes events in order and returns one output per input. */
  async process<M>(inputs: readonly PipelineInput<M>[], scoreHook?: ScoreHook<M>): Promise<PipelineOutput<M>[]> {
    if (this.closed) throw new ClosedError('ClickPipeline');
    const outputs: PipelineOutput<M>[] = new Array(inputs.length);
    let round: { i: number; session: SessionState; outcome: IngestOutcome }[] = [];
    const inRound = new Set<string>();
    const flush = async () => {
      if (round.length === 0) return;
      await this.runRound(inputs, outputs, round, scoreHook);
      round = [];
      inRound.clear();
    };
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      const ev = input.event;
      if (inRound.has(ev.sessionId) || round.length >= (this.opts.maxBatchSize ?? pipelineDefaults.maxBatchSize)) await flush();
      this.counters.events++;
      const ix = this.vocabulary.indexOf(ev.itemId);
      if (ix === OOV) {
        this.counters.outOfVocabulary++;
        if ((this.opts.oov ?? pipelineDefaults.oov) === 'error') {
          this.counters.rejected++;
          outputs[i] = {
            event: ev, meta: input.meta, outcome: 'rejected',
            error: new NextclickError('UNKNOWN_ITEM', `item "${String(ev.itemId)}" is not in the model's vocabulary`, { context: { itemId: ev.itemId, sessionId: ev.sessionId } }),
          };
          continue;
        }
      }
      const r = this.sessionizer.ingest(ev, ix);
      if (r.outcome === 'duplicate' || r.outcome === 'too-late' || r.session.items.length === 0) {
        outputs[i] = { event: ev, meta: input.meta, outcome: r.outcome };
        continue;
      }
      round.push({ i, session: r.session, outcome: r.outcome });
      inRound.add(ev.sessionId);
    }
    await flush();
    this.sessionizer.expire();
    return outputs;
  }

  /**
   * Recommends for a live session from its current state, without a new event. Returns undefined for an
   * unknown or empty session. `exclude` takes external ids; `k` defaults to the pipeline's.
   */
  async recommend(sessionId: string, options: { k?: number; exclude?: Iterable<ItemId>; excludeSeen?: boolean } = {}): Promise<SessionRecommendation | undefined> {
    if (this.closed) throw new ClosedError('ClickPipeline');
    await this.flush();
    const session = this.sessionizer.get(sessionId);
    if (!session || session.items.length === 0) return undefined;
    if (session.modelState === undefined) await this.scorer.observe([session]);
    const exclude = new Set(this.blocked);
    for (const id of options.exclude ?? []) {
      const ix = this.vocabulary.indexOf(id);
      if (ix !== OOV) exclude.add(ix);
    }
    if (options.excludeSeen ?? this.opts.excludeSeen ?? pipelineDefaults.excludeSeen) for (const ix of session.items) exclude.add(ix);
    const k = options.k ?? this.k;
    const filter: ItemFilter = { exclude, allow: this.allowed };
    // The scorer's own top-k (e.g. ANN candidates) when it has one, as for events.
    const top = this.scorer.recommend
      ? (await this.scorer.recommend([session], k, [filter]))[0]!
      : topK(await this.scorer.score([session]), k, filter, 0, this.scorer.itemCount);
    return {
      sessionId,
      items: Array.from(top.items, (ix) => (this.idExample === undefined ? this.vocabulary.idOf(ix) : this.vocabulary.idLike(ix, this.idExample))),
      scores: Array.from(top.scores),
      eventTime: session.lastTime,
      modelVersion: this.modelVersion,
    };
  }

  /**
   * Adds one event to the current micro-batch; resolves with its output once the batch is scored.
   * Adaptive batching: while a model step runs, events queue and all of them (up to `maxBatchSize`) go in
   * the next step the moment it ends, so batches grow with load and an idle pipeline adds only `maxDelayMs`.
   */
  push<M>(event: ClickEvent, meta: M): Promise<PipelineOutput<M>> {
    if (this.closed) return Promise.reject(new ClosedError('ClickPipeline'));
    return new Promise<PipelineOutput<M>>((resolve, reject) => {
      this.queue.push({ input: { event, meta }, resolve: resolve as (o: PipelineOutput<unknown>) => void, reject });
      if (this.busy) return;
      if (this.queue.length >= (this.opts.maxBatchSize ?? pipelineDefaults.maxBatchSize)) this.drain();
      else this.arm();
    });
  }

  /** Events waiting in the micro-batch queue. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once every pushed event has been processed. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.busy) {
      if (!this.busy) this.drain();
      await this.running;
    }
  }

  /**
   * Drops a session at once (a finished replay session, a revoked partition) without a `session:closed` event,
   * and frees what the model keeps for it (e.g. its backend state slot).
   */
  endSession(sessionId: string): void {
    const session = this.sessionizer.delete(sessionId);
    if (session) this.scorer.release?.([session]);
  }

  /** Flushes, closes all sessions and disposes nothing else (the caller owns the scorer). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.sessionizer.closeAll();
  }

  /** Starts the batch timer: `maxDelayMs` to let a burst gather, or the next turn of the event loop for 0. */
  private arm(): void {
    if (this.disarm) return;
    const delay = this.opts.maxDelayMs ?? pipelineDefaults.maxDelayMs;
    if (delay > 0) {
      const t = setTimeout(() => this.drain(), delay);
      this.disarm = () => clearTimeout(t);
    } else {
      const t = setImmediate(() => this.drain());
      this.disarm = () => clearImmediate(t);
    }
  }

  /** Starts one model step on the queued events (at most maxBatchSize) unless one is running. */
  private drain(): void {
    this.disarm?.();
    this.disarm = undefined;
    if (this.busy || this.queue.length === 0) return;
    const max = this.opts.maxBatchSize ?? pipelineDefaults.maxBatchSize;
    const batch = this.queue.splice(0, max);
    this.busy = true;
    this.running = (async () => {
      try {
        const outs = await this.process(batch.map((b) => b.input));
        outs.forEach((o, j) => batch[j]!.resolve(o));
      } catch (err) {
        for (const b of batch) b.reject(err);
      } finally {
        this.busy = false;
      }
      // Whatever queued during the step has already waited a whole step: run it now.
      if (this.queue.length > 0) this.drain();
    })();
  }

  private async runRound<M>(
    inputs: readonly PipelineInput<M>[],
    outputs: PipelineOutput<M>[],
    round: readonly { i: number; session: SessionState; outcome: IngestOutcome }[],
    scoreHook: ScoreHook<M> | undefined,
  ): Promise<void> {
    const t0 = performance.now();
    const changed = round.filter((r) => r.outcome !== 'no-item' || r.session.modelState === undefined).map((r) => r.session);
    if (changed.length > 0) await this.scorer.observe(changed);
    const sessions = round.map((r) => r.session);
    const n = this.scorer.itemCount;
    const excludeSeen = this.opts.excludeSeen ?? pipelineDefaults.excludeSeen;
    const filters: ItemFilter[] = round.map((r) => ({ exclude: excludeSeen ? new Set([...this.blocked, ...r.session.items]) : this.blocked, allow: this.allowed }));
    // Serving fast path (ANN / fused top-k) unless the caller needs full score rows.
    const fast = !scoreHook && this.scorer.recommend ? await this.scorer.recommend(sessions, this.k, filters) : undefined;
    const scores = fast ? undefined : await this.scorer.score(sessions);
    round.forEach((r, j) => {
      const input = inputs[r.i]!;
      const top = fast ? fast[j]! : topK(scores!, this.k, filters[j], j * n, n);
      const items: ItemId[] = new Array(top.items.length);
      const like = input.event.itemId;
      this.idExample = like;
      for (let q = 0; q < top.items.length; q++) items[q] = this.vocabulary.idLike(top.items[q]!, like);
      const recommendation: SessionRecommendation = {
        sessionId: input.event.sessionId,
        items,
        scores: Array.from(top.scores),
        eventTime: input.event.timestamp,
        modelVersion: this.modelVersion,
      };
      this.counters.recommendations++;
      const out: PipelineOutput<M> = { event: input.event, meta: input.meta, outcome: r.outcome, recommendation };
      outputs[r.i] = out;
      if (scores) scoreHook?.(out, r.session, scores, j * n, n);
    });
    this.counters.batches++;
    if (this.hasListeners('batch:scored')) this.emit('batch:scored', { events: round.length, sessions: sessions.length, ms: performance.now() - t0 });
  }

  private resolveFilters(): void {
    this.blocked = new Set();
    for (const id of this.opts.blocklist ?? []) {
      const ix = this.vocabulary.indexOf(id);
      if (ix !== OOV) this.blocked.add(ix);
    }
    if (this.opts.allowlist) {
      this.allowed = new Set();
      for (const id of this.opts.allowlist) {
        const ix = this.vocabulary.indexOf(id);
        if (ix !== OOV) this.allowed.add(ix);
      }
    } else this.allowed = undefined;
  }
}
