/// <reference types="node" preserve="true" />
/** `nextclick/pool`: the Recommender API spread over worker threads (one model copy per worker). */
export { RecommenderPool } from './recommender-pool.js';
export type { RecommenderPoolOptions } from './recommender-pool.js';
