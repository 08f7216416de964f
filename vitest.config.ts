import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores here: keep heavy model tests from starving each other.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
