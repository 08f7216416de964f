/// <reference types="node" preserve="true" />
/**
 * nextclick — session-based next-item recommendation for TypeScript and Kafka.
 *
 * This is the core entry: events, the sessionizer, the baselines, the replay evaluator and the Recommender facade.
 * It loads neither TensorFlow.js nor kafkajs nor prom-client. The other entry points:
 * - `nextclick/models`: GRU4Rec, the transformer and BST ranker, TensorFlow.js backend selection;
 * - `nextclick/kafka`: the Kafka stream worker, its metrics and their HTTP endpoint;
 * - `nextclick/pool`: RecommenderPool, the Recommender spread over worker threads.
 * `Recommender.load` / `loadModel` read any saved model kind: a neural model directory imports `nextclick/models`
 * on first use. Anything not exported from an entry point is internal.
 */
export { NextclickError, InvalidEventError, InvalidOptionError, ModelFormatError, ClosedError, ErrorCodes, isNextclickError } from './src/errors.js';
export type { ErrorCode } from './src/errors.js';
export { validateClickEvent } from './src/events/click-event.js';
export type { ClickEvent, ItemId } from './src/events/click-event.js';
export { JsonCodec } from './src/events/codec.js';
export type { Codec } from './src/events/codec.js';
export { MsgpackCodec } from './src/events/msgpack-codec.js';
export { ItemVocabulary } from './src/vocab/item-vocabulary.js';
export { Sessionizer } from './src/sessions/sessionizer.js';
export type { SessionizerOptions } from './src/sessions/sessionizer-options.js';
export type { Scorer, Recommendation } from './src/scoring/scorer.js';
export { loadModel, registerModelKind, registeredModelKinds } from './src/scoring/model-registry.js';
export type { LoadedModel, ModelLoader } from './src/scoring/model-registry.js';
export type { ModelManifest } from './src/persistence/model-dir.js';
export { Recommender } from './src/scoring/recommender.js';
export type { RecommenderOptions } from './src/scoring/recommender.js';
export { ClickPipeline } from './src/pipeline/click-pipeline.js';
export type { SessionRecommendation } from './src/pipeline/click-pipeline.js';
export type { PipelineOptions } from './src/pipeline/pipeline-options.js';
export { readClickLog, readSessions, prepare } from './src/data/index.js';
export type { ClickLogFormat, ClickLogOptions, PrepareOptions } from './src/data/index.js';
export { evaluateReplay, formatEvaluation, formatComparison } from './src/eval/index.js';
export type { EvaluationResult, ReplayEvaluationOptions, CutoffMetrics } from './src/eval/index.js';
export { MostPopular, ItemKnn, VSKnn, SequentialRules, trainBaseline, buildCorpus } from './src/baselines/index.js';
export type { BaselineKind, SessionCorpus, ItemKnnOptions, VSKnnOptions, SequentialRulesOptions } from './src/baselines/index.js';
export { generateSessions } from './src/synthetic/index.js';
export type { SyntheticOptions } from './src/synthetic/index.js';
export { createStderrLogger } from './src/instrumentation/typed-emitter.js';
export type { Logger } from './src/instrumentation/typed-emitter.js';
