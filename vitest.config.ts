import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts a local Kafka broker unless KAFKA_BROKERS is set (scripts/kafka); see test/setup/kafka.ts.
    globalSetup: ['test/setup/kafka.ts'],
    // A hang detector, not a speed check: CI is a busy 2-core box. Heavy bounded work (training, WebGPU on
    // software Vulkan) uses HEAVY_TEST_TIMEOUT_MS from test/helpers/timeouts.ts.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores here: keep heavy model tests from starving each other.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
