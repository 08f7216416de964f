/**
 * Ceilings for tests whose work is bounded but heavy (training a model, WebGPU on Mesa's software Vulkan).
 * They are hang detectors, not performance checks: sized for a saturated 2-core CI box, where such a test runs
 * 10–20× slower than on an idle one (beside two busy loops at load 19, the demo's JSON test took 335 s and the
 * saved-model evaluation on yoochoose-100k 314 s). Tests never assert on durations.
 */
/** Per-test ceiling for bounded heavy work (the default here is 120 s, see vitest.config.ts). */
export const HEAVY_TEST_TIMEOUT_MS = 900_000;
