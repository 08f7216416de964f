export { trainTransformer, buildWindows, bucketBatches } from './train.js';
export type { TransformerTrainOptions, TransformerTrainResult, TransformerEpochMetrics, TransformerTrainingData } from './train.js';
export { TransformerScorer, type TransformerScorerOptions } from './scorer.js';
export { TransformerParams } from './params.js';
export { saveTransformer, loadTransformer, readTransformer, TRANSFORMER_KIND } from './io.js';
export { resolveTransformerConfig, defaultTransformerConfig, parseTransformerParams, type TransformerConfig } from './config.js';
export { transformerTrainer } from './cli.js';
export * from '../bst-ranker/index.js';
