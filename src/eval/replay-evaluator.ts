import { CancelledError, InvalidOptionError } from '../errors.js';
import type { ClickEvent } from '../events/click-event.js';
import { ProgressBar } from '../instrumentation/progress.js';
import { ClickPipeline, type PipelineInput, type PipelineOutput } from '../pipeline/click-pipeline.js';
import type { PipelineOptions } from '../pipeline/pipeline-options.js';
import type { Scorer } from '../scoring/scorer.js';
import { rankOf, type TiePolicy } from '../scoring/top-k.js';
import type { SessionizerOptions } from '../sessions/sessionizer-options.js';
import { OOV, type ItemVocabulary } from '../vocab/item-vocabulary.js';
import { DEFAULT_CUTOFFS, type CutoffMetrics } from './metrics.js';
import { PredictionRecorder, type GroupMetrics } from './prediction-recorder.js';
import type { LatencySummary } from './latency.js';

/** Options of {@link evaluateReplay}. */
export interface ReplayEvaluationOptions {
  /** Cut-offs K. @defaultValue [1, 5, 10, 20] */
  readonly cutoffs?: readonly number[];
  /** How ties with the target's score count (see `rankOf`). Conservative: a model scoring all items equally gets no credit. @defaultValue 'conservative' */
  readonly tiePolicy?: TiePolicy;
  /** Training clicks per dense item index, for the popularity-bias measures (omitted from the result without it). */
  readonly popularity?: ArrayLike<number>;
  /** Sessions replayed side by side; each model call scores one event of each (the pipeline's round size). @defaultValue 256 */
  readonly parallelSessions?: number;
  /** Rounds handed to one `ClickPipeline.process` call. @defaultValue 16 */
  readonly roundsPerCall?: number;
  /** Pipeline options (filters, excludeSeen...). `k` is raised to the largest cut-off; `maxBatchSize` is set to `parallelSessions`. */
  readonly pipeline?: Omit<PipelineOptions, 'sessions' | 'maxBatchSize'>;
  /**
   * Sessionizer options. By default sessions are defined by the session ids of the test log alone (no idle
   * split, no out-of-order drop), so every next-item prediction of the protocol is made.
   */
  readonly sessions?: SessionizerOptions;
  /** Total events, if known, for the progress bar. */
  readonly totalEvents?: number;
  /** Draw a progress bar on stderr. @defaultValue false */
  readonly progress?: boolean;
  /** Label used in results. @defaultValue scorer.name */
  readonly label?: string;
  readonly signal?: AbortSignal;
}

/** Result of a replay evaluation. */
export interface EvaluationResult {
  readonly model: string;
  /** Test events replayed (all observed, including those with unknown items). */
  readonly events: number;
  /** Test sessions (runs of equal, contiguous session ids). */
  readonly sessions: number;
  /** Predictions in the metrics: each event followed by another event of its session whose item is in the vocabulary. */
  readonly predictions: number;
  /** Next-item predictions skipped because the target item is not in the training vocabulary. */
  readonly skippedOovTargets: number;
  /** Predictions counted as misses because the session had no known item yet (nothing to score). */
  readonly unscored: number;
  /** Test events whose own item is not in the vocabulary (observed, not stored). */
  readonly oovEvents: number;
  /** How ties with the target count; `list-order` for serving evaluation, which ranks by the served list. */
  readonly tiePolicy: TiePolicy | 'list-order';
  /** `replay`: full score rows, exact ranks (the tie policy applies); `serving`: the serving path's top list (see `evaluateServing`). */
  readonly mode: 'replay' | 'serving';
  readonly cutoffs: CutoffMetrics[];
  /** Share of predictions whose target was already in the session (repeat clicks). */
  readonly repeatShare: number;
  /** Metrics by the session's events so far (prefix length), buckets without predictions left out. */
  readonly prefixLengths: GroupMetrics[];
  /** Metrics of repeat targets and of new targets. */
  readonly repeatSplit: GroupMetrics[];
  /** Per-event latency (serving evaluation only). */
  readonly latency?: LatencySummary;
  /** Mean training clicks of recommended items (top-max-K lists), the "ARP" measure. */
  readonly averagePopularity?: number;
  /** Mean popularity percentile (0 = least, 1 = most popular item) of recommended items. */
  readonly averagePopularityPercentile?: number;
  readonly itemCount: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
}

/** Target of a session's last event (there is no next item). */
export const NO_TARGET = -2;

/** What the evaluators carry with each event through the pipeline. */
export interface PredictionMeta {
  /** Dense index of the session's next item, OOV or NO_TARGET. */
  readonly target: number;
  /** Events of the session so far, including this one. */
  readonly prefixLength: number;
  /** The next item already occurred in the session. */
  readonly isRepeat: boolean;
}

/** A test session being replayed: its events, the next position, and the item ids seen so far. */
export class SessionLane {
  pos = 0;
  private readonly seen = new Set<string>();
  constructor(readonly events: ClickEvent[]) {}

  /** Meta of the event at `pos` (its target is the next event's item); advances `pos`. */
  next(vocabulary: ItemVocabulary): { event: ClickEvent; meta: PredictionMeta } {
    const event = this.events[this.pos]!;
    this.seen.add(String(event.itemId));
    const following = this.events[this.pos + 1];
    this.pos++;
    const target = following === undefined ? NO_TARGET : vocabulary.indexOf(following.itemId);
    return { event, meta: { target, prefixLength: this.pos, isRepeat: following !== undefined && this.seen.has(String(following.itemId)) } };
  }

  get done(): boolean {
    return this.pos >= this.events.length;
  }
}

/** Groups a log into runs of equal, contiguous session ids. */
export async function* contiguousSessions(events: AsyncIterable<ClickEvent> | Iterable<ClickEvent>): AsyncGenerator<ClickEvent[]> {
  let current: ClickEvent[] = [];
  for await (const ev of events as AsyncIterable<ClickEvent>) {
    if (current.length > 0 && ev.sessionId !== current[0]!.sessionId) {
      yield current;
      current = [];
    }
    current.push(ev);
  }
  if (current.length > 0) yield current;
}

/**
 * Replay evaluation through the production path: test events go event by event through
 * `ClickPipeline.process` (vocabulary → Sessionizer → Scorer) and, after each event, the target is the next
 * item of that session, ranked against ALL items from the full score row. Sessions must be contiguous in the
 * log (as prepared test files are); `parallelSessions` of them are interleaved so each model call scores many
 * sessions at once, which changes nothing in the results (each session sees its own events in order).
 */
export async function evaluateReplay(scorer: Scorer, vocabulary: ItemVocabulary, events: AsyncIterable<ClickEvent> | Iterable<ClickEvent>, options: ReplayEvaluationOptions = {}): Promise<EvaluationResult> {
  const cutoffs = options.cutoffs ?? DEFAULT_CUTOFFS;
  const tie = options.tiePolicy ?? 'conservative';
  const lanesMax = options.parallelSessions ?? 256;
  const roundsPerCall = options.roundsPerCall ?? 16;
  if (!Number.isInteger(lanesMax) || lanesMax < 1) throw new InvalidOptionError('parallelSessions', 'parallelSessions must be an integer ≥ 1');
  if (!Number.isInteger(roundsPerCall) || roundsPerCall < 1) throw new InvalidOptionError('roundsPerCall', 'roundsPerCall must be an integer ≥ 1');
  if (scorer.itemCount !== vocabulary.size) throw new InvalidOptionError('vocabulary', `the scorer scores ${scorer.itemCount} items but the vocabulary has ${vocabulary.size}`);
  const acc = new PredictionRecorder(cutoffs, vocabulary.size, options.popularity);
  // Sessions are the test log's session ids: never split by idle gaps, never drop out-of-order events.
  const forever = 1e15;
  const pipeline = new ClickPipeline(scorer, vocabulary, {
    ...options.pipeline,
    k: Math.max(options.pipeline?.k ?? 1, acc.maxCutoff),
    maxBatchSize: lanesMax,
    sessions: { idleTimeoutMs: forever, outOfOrderToleranceMs: forever, maxItems: 50, ...options.sessions },
  });
  const bar = new ProgressBar({ label: `evaluate ${options.label ?? scorer.name}`, unit: 'events', silent: !options.progress, ...(options.totalEvents ? { total: options.totalEvents } : {}) });
  let skippedOov = 0;
  let unscored = 0;
  let eventCount = 0;
  let sessionCount = 0;
  const listBuf: number[] = [];
  const hook = (out: PipelineOutput<PredictionMeta>, _s: unknown, scores: Float32Array, offset: number, n: number) => {
    const { target, prefixLength, isRepeat } = out.meta;
    if (target < 0) return;
    acc.add(rankOf(scores, target, tie, offset, n), prefixLength, isRepeat);
    listBuf.length = 0;
    for (const id of out.recommendation?.items ?? []) listBuf.push(vocabulary.indexOf(id));
    acc.addList(listBuf);
  };

  const t0 = performance.now();
  const source = contiguousSessions(events)[Symbol.asyncIterator]();
  const lanes: SessionLane[] = [];
  let exhausted = false;
  for (;;) {
    if (options.signal?.aborted) throw new CancelledError('evaluation');
    const inputs: PipelineInput<PredictionMeta>[] = [];
    const ended: string[] = [];
    for (let round = 0; round < roundsPerCall; round++) {
      while (lanes.length < lanesMax && !exhausted) {
        const r = await source.next();
        if (r.done) exhausted = true;
        else { lanes.push(new SessionLane(r.value)); sessionCount++; }
      }
      if (lanes.length === 0) break;
      // One event of each live session per round, so the pipeline scores them in one model call.
      let live = 0;
      for (const lane of lanes) {
        const input = lane.next(vocabulary);
        if (input.meta.target === OOV) skippedOov++;
        inputs.push(input);
        if (!lane.done) lanes[live++] = lane;
        else ended.push(input.event.sessionId);
      }
      lanes.length = live;
    }
    if (inputs.length === 0) break;
    const outputs = await pipeline.process(inputs, hook);
    for (const out of outputs) {
      if (out.meta.target >= 0 && out.recommendation === undefined) { unscored++; acc.add(Infinity, out.meta.prefixLength, out.meta.isRepeat); }
    }
    // Finished sessions leave the Sessionizer at once (bounded memory; a reused id starts afresh).
    for (const id of ended) pipeline.endSession(id);
    eventCount += inputs.length;
    bar.update(eventCount);
  }
  const seconds = (performance.now() - t0) / 1000;
  bar.finish();
  const stats = pipeline.stats();
  await pipeline.close();
  const metrics = acc.overall.result();
  return {
    model: options.label ?? scorer.name,
    events: eventCount,
    sessions: sessionCount,
    predictions: acc.predictions,
    skippedOovTargets: skippedOov,
    unscored,
    oovEvents: stats.outOfVocabulary,
    tiePolicy: tie,
    mode: 'replay',
    ...metrics,
    repeatShare: acc.repeatShare,
    prefixLengths: acc.prefixLengths(),
    repeatSplit: acc.repeatSplit(),
    itemCount: vocabulary.size,
    seconds,
    eventsPerSecond: seconds > 0 ? eventCount / seconds : 0,
  };
}
