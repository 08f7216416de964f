export { BstRanker, rankerWindow } from './ranker.js';
export { BstRankerParams } from './params.js';
export { TwoStageScorer, defaultTwoStageOptions, type TwoStageOptions } from './two-stage.js';
export { trainBstRanker, type BstTrainOptions, type BstTrainResult, type BstTrainingData } from './train.js';
export { saveBstRanker, loadBstRanker, readBstRanker, BST_RANKER_KIND } from './io.js';
export { resolveBstRankerConfig, defaultBstRankerConfig, parseBstRankerParams, type BstRankerConfig } from './config.js';
export { bstRankerTrainer, firstStageItemTable } from './cli.js';
