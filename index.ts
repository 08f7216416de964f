/**
 * nextclick — session-based next-item recommendation for TypeScript and Kafka.
 * This is the one public entry point; anything not exported here is internal.
 * Importing it registers every model kind, so `Recommender.load(dir)` can load any saved model.
 */
export * from './src/index.js';
export { selectBackend, selectedBackend, backendEvents, BackendNames } from './src/backend/index.js';
export type { BackendName, BackendOptions, BackendSelection, BackendAttempt, BackendEvents } from './src/backend/index.js';
export * from './models/index.js';
export * from './streaming/index.js';
export { RecommenderPool } from './streaming/pool/recommender-pool.js';
export type { RecommenderPoolOptions } from './streaming/pool/recommender-pool.js';
