/**
 * nextclick — session-based next-item recommendation for TypeScript and Kafka.
 * This is the one public entry point; anything not exported here is internal.
 * Importing it registers every model kind, so `Recommender.load(dir)` can load any saved model.
 */
export * from './src/index.js';
export { RecommenderPool } from './streaming/pool/recommender-pool.js';
export type { RecommenderPoolOptions } from './streaming/pool/recommender-pool.js';
