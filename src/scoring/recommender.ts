import { NextclickError } from '../errors.js';
import { LIVE_EVENT_TIME_BOUNDS, validateClickEvent, type ClickEvent, type EventValidationOptions, type ItemId } from '../events/click-event.js';
import { ClickPipeline, type PipelineEvents, type SessionRecommendation } from '../pipeline/click-pipeline.js';
import type { PipelineOptions } from '../pipeline/pipeline-options.js';
import type { ItemVocabulary } from '../vocab/item-vocabulary.js';
import { loadModel, type LoadedModel } from './model-registry.js';
import type { Scorer } from './scorer.js';

export interface RecommenderOptions extends PipelineOptions {
  /**
   * Checks of observed events; timestamps are bounded against the wall clock (`maxFutureMs`, `maxPastMs`).
   * @defaultValue LIVE_EVENT_TIME_BOUNDS (at most one day ahead of the wall clock)
   */
  readonly validation?: EventValidationOptions;
}

/**
 * The embedded SDK: feed click events in-process, get recommendations back. It drives the same
 * {@link ClickPipeline} (sessionizer, micro-batching, model step, filters) as replay and the Kafka worker.
 *
 * @example
 * const rec = await Recommender.load('./model');
 * const top = await rec.observe({ sessionId: 's1', itemId: 42, timestamp: Date.now() });
 * const again = await rec.recommend('s1', { k: 10, exclude: [42] });
 * await rec.close();
 */
export class Recommender {
  readonly pipeline: ClickPipeline;
  private closing: Promise<void> | undefined;
  private readonly validation: EventValidationOptions;

  constructor(scorer: Scorer, vocabulary: ItemVocabulary, options: RecommenderOptions = {}) {
    const { validation, ...pipeline } = options;
    this.pipeline = new ClickPipeline(scorer, vocabulary, pipeline);
    this.validation = { ...LIVE_EVENT_TIME_BOUNDS, ...validation };
  }

  /**
   * Loads a saved model directory of any kind ({@link loadModel}: a neural model imports `nextclick/models`, and
   * with it TensorFlow.js, on first use).
   */
  static async load(dir: string, options: RecommenderOptions = {}): Promise<Recommender> {
    const model = await loadModel(dir);
    return Recommender.fromModel(model, options);
  }

  static fromModel(model: LoadedModel, options: RecommenderOptions = {}): Recommender {
    return new Recommender(model.scorer, model.vocabulary, { modelVersion: model.manifest.label ?? `${model.manifest.kind}@${model.manifest.createdAt}`, ...options });
  }

  /**
   * Adds one click and resolves with the session's top-k after it. Invalid input rejects with an
   * InvalidEventError naming the field; it never corrupts other sessions. Resolves undefined when
   * nothing can be recommended (duplicate, too late, unknown first item).
   */
  async observe(event: ClickEvent | Record<string, unknown>): Promise<SessionRecommendation | undefined> {
    const valid = validateClickEvent(event, this.validation);
    const out = await this.pipeline.push(valid, undefined);
    if (out.error) throw out.error;
    return out.recommendation;
  }

  /** Top-k for a live session without a new event. */
  recommend(sessionId: string, options: { k?: number; exclude?: Iterable<ItemId>; excludeSeen?: boolean } = {}): Promise<SessionRecommendation | undefined> {
    return this.pipeline.recommend(sessionId, options);
  }

  /** Replaces the model while serving (sessions keep their items; model state is rebuilt). */
  async swap(model: LoadedModel): Promise<void> {
    const old = await this.pipeline.swapModel(model.scorer, model.vocabulary, model.manifest.label ?? `${model.manifest.kind}@${model.manifest.createdAt}`);
    await old.dispose?.();
  }

  on<K extends keyof PipelineEvents>(event: K, listener: (p: PipelineEvents[K]) => void): () => void {
    return this.pipeline.on(event, listener);
  }

  stats(): ReturnType<ClickPipeline['stats']> {
    return this.pipeline.stats();
  }

  /** Flushes pending events, closes sessions and disposes the model. Safe to call twice (same promise). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const errors: unknown[] = [];
      try { await this.pipeline.close(); } catch (e) { errors.push(e); }
      try { await this.pipeline.model.dispose?.(); } catch (e) { errors.push(e); }
      if (errors.length > 0) throw new NextclickError('INTERNAL', `close failed: ${errors.map((e) => (e as Error).message).join('; ')}`, { cause: errors[0] });
    })();
    return this.closing;
  }
}

