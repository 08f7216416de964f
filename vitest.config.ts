import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts a local Kafka broker unless KAFKA_BROKERS is set (scripts/kafka); see test/setup/kafka.ts.
    globalSetup: ['test/setup/kafka.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores here: keep heavy model tests from starving each other.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
