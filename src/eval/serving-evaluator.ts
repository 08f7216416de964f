import { CancelledError, InvalidOptionError } from '../errors.js';
import type { ClickEvent } from '../events/click-event.js';
import { ProgressBar } from '../instrumentation/progress.js';
import { ClickPipeline, type PipelineOutput } from '../pipeline/click-pipeline.js';
import type { PipelineOptions } from '../pipeline/pipeline-options.js';
import type { Scorer } from '../scoring/scorer.js';
import type { SessionizerOptions } from '../sessions/sessionizer-options.js';
import { OOV, type ItemVocabulary } from '../vocab/item-vocabulary.js';
import { LatencyRecorder } from './latency.js';
import { DEFAULT_CUTOFFS } from './metrics.js';
import { PredictionRecorder } from './prediction-recorder.js';
import { contiguousSessions, SessionLane, type EvaluationResult, type PredictionMeta } from './replay-evaluator.js';

/** Options of {@link evaluateServing}. */
export interface ServingEvaluationOptions {
  /** Cut-offs K; the served lists have the largest one's length. @defaultValue [1, 5, 10, 20] */
  readonly cutoffs?: readonly number[];
  /** Training clicks per dense item index, for the popularity-bias measures. */
  readonly popularity?: ArrayLike<number>;
  /**
   * Sessions replayed at once. Each behaves like a user: it sends its next click only after the recommendation
   * for the previous one came back, so the pipeline's micro-batches hold up to this many events. @defaultValue 64
   */
  readonly concurrentSessions?: number;
  /** Serving options (`maxBatchSize`, `maxDelayMs`, filters...). `k` is set to the largest cut-off. */
  readonly pipeline?: Omit<PipelineOptions, 'sessions' | 'k'>;
  /** Sessionizer options; by default the test log's session ids alone define sessions, as in replay. */
  readonly sessions?: SessionizerOptions;
  /** Total events, if known, for the progress bar. */
  readonly totalEvents?: number;
  /** Draw a progress bar on stderr. @defaultValue false */
  readonly progress?: boolean;
  /** Label used in results. @defaultValue scorer.name */
  readonly label?: string;
  readonly signal?: AbortSignal;
}

/**
 * Replays a test log through the serving path and reports accuracy and latency together. Events go one at
 * a time through `ClickPipeline.push`, the call behind `Recommender.observe` and the Kafka worker: adaptive
 * micro-batching, and the scorer's own top-k (`Scorer.recommend`, e.g. ANN candidates re-scored exactly) when
 * it has one. Latency is measured per event from `push` to its recommendation.
 *
 * Unlike {@link evaluateReplay}, ranks come from the served top list (ties in the order the list has them,
 * a target outside the list is a miss), so an approximate index costs exactly what it costs in production.
 */
export async function evaluateServing(scorer: Scorer, vocabulary: ItemVocabulary, events: AsyncIterable<ClickEvent> | Iterable<ClickEvent>, options: ServingEvaluationOptions = {}): Promise<EvaluationResult> {
  const cutoffs = options.cutoffs ?? DEFAULT_CUTOFFS;
  const concurrency = options.concurrentSessions ?? 64;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidOptionError('concurrentSessions', `concurrentSessions must be an integer ≥ 1, got ${String(concurrency)}`);
  if (scorer.itemCount !== vocabulary.size) throw new InvalidOptionError('vocabulary', `the scorer scores ${scorer.itemCount} items but the vocabulary has ${vocabulary.size}`);
  const acc = new PredictionRecorder(cutoffs, vocabulary.size, options.popularity);
  const latency = new LatencyRecorder();
  const forever = 1e15;
  const pipeline = new ClickPipeline(scorer, vocabulary, {
    ...options.pipeline,
    k: acc.maxCutoff,
    sessions: { idleTimeoutMs: forever, outOfOrderToleranceMs: forever, maxItems: 50, ...options.sessions },
  });
  const label = options.label ?? scorer.name;
  const bar = new ProgressBar({ label: `serve ${label}`, unit: 'events', silent: !options.progress, ...(options.totalEvents ? { total: options.totalEvents } : {}) });
  let skippedOov = 0;
  let unscored = 0;
  let eventCount = 0;
  let sessionCount = 0;
  const listBuf: number[] = [];
  const record = (out: PipelineOutput<PredictionMeta>) => {
    const { target, prefixLength, isRepeat } = out.meta;
    if (target < 0) return;
    const rec = out.recommendation;
    if (rec === undefined) {
      unscored++;
      acc.add(Infinity, prefixLength, isRepeat);
      return;
    }
    listBuf.length = 0;
    for (const id of rec.items) listBuf.push(vocabulary.indexOf(id));
    const at = listBuf.indexOf(target);
    acc.add(at >= 0 ? at + 1 : Infinity, prefixLength, isRepeat);
    acc.addList(listBuf);
  };

  const source = contiguousSessions(events)[Symbol.asyncIterator]();
  // One user per worker: next session, then its clicks one by one, each after the previous answer.
  const worker = async () => {
    for (;;) {
      const r = await source.next();
      if (r.done) return;
      sessionCount++;
      const lane = new SessionLane(r.value);
      while (!lane.done) {
        if (options.signal?.aborted) throw new CancelledError('evaluation');
        const input = lane.next(vocabulary);
        if (input.meta.target === OOV) skippedOov++;
        const t = performance.now();
        const out = await pipeline.push(input.event, input.meta);
        latency.add(performance.now() - t);
        if (out.error) throw out.error;
        record(out);
        if (++eventCount % 256 === 0) bar.update(eventCount);
      }
      pipeline.endSession(r.value[0]!.sessionId);
    }
  };
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await pipeline.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  bar.update(eventCount);
  bar.finish();
  return {
    model: label,
    events: eventCount,
    sessions: sessionCount,
    predictions: acc.predictions,
    skippedOovTargets: skippedOov,
    unscored,
    oovEvents: pipeline.stats().outOfVocabulary,
    tiePolicy: 'list-order',
    mode: 'serving',
    ...acc.overall.result(),
    repeatShare: acc.repeatShare,
    prefixLengths: acc.prefixLengths(),
    repeatSplit: acc.repeatSplit(),
    latency: latency.summary(),
    itemCount: vocabulary.size,
    seconds,
    eventsPerSecond: seconds > 0 ? eventCount / seconds : 0,
  };
}
