/**
 * nextclick — session-based next-item recommendation for TypeScript and Kafka.
 * This is the one public entry point; anything not exported here is internal.
 */
export * from './src/index.js';
