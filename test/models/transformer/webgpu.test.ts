// The transformer (streaming scorer with the KV cache; training through trainTransformer, which trains with
// TransformerDeviceStepper on webgpu, through TransformerStepper.stepAsync, and one device step against cpu)
// and the BST ranker (logitsAsync, a trainBstRanker run) on the WebGPU backend (Dawn over Vulkan; here Mesa's
// lavapipe from scripts/gpu/setup-lavapipe.sh) against wasm. Skips loudly
// without a Vulkan driver; NEXTCLICK_REQUIRE_WEBGPU=1 makes that a failure (as test/src/backend/webgpu.test.ts
// does). A 3000-item catalogue keeps the score products on the GPU (tiny ops are forwarded to the CPU, where
// sync reads would work and hide the problem; the test checks that a sync read of that size fails), and a spy
// on Tensor.dataSync checks the webgpu runs never read synchronously.
// Tolerances: float32 sums may run in a different order on each backend. Measured on lavapipe: streaming
// scores, the KV cache and the BST logits differ by ≤ 7e-7, limit 1e-4; weights after the steps by
// ≤ 7e-7 (most exactly equal), limit 1e-4 (Adam divides small gradients by their own size, so float noise in a
// near-zero gradient can move a weight by up to ~lr); losses by ≤ 1.3e-10, limit 1e-5.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BstRankerParams } from '../../../models/bst-ranker/params.js';
import { BstRanker } from '../../../models/bst-ranker/ranker.js';
import { trainBstRanker } from '../../../models/bst-ranker/train.js';
import { readSync } from '../../../models/training/tensor-reads.js';
import { Rng } from '../../../models/training/rng.js';
import { PopularitySampler } from '../../../models/training/sampler.js';
import { resolveTransformerConfig, type TransformerConfig } from '../../../models/transformer/config.js';
import { TransformerParams } from '../../../models/transformer/params.js';
import { TransformerScorer } from '../../../models/transformer/scorer.js';
import { TransformerDeviceStepper } from '../../../models/transformer/device-train-step.js';
import { TransformerStepper, type TrainingWindow } from '../../../models/transformer/train-step.js';
import { TransitionGraph } from '../../../models/transformer/transitions.js';
import { trainTransformer, type TransformerTrainResult } from '../../../models/transformer/train.js';
import { buildCorpus } from '../../../src/baselines/corpus.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { newSessionState, type SessionState } from '../../../src/sessions/session-state.js';
import { generateSessions } from '../../../src/synthetic/index.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { webGpuAvailability } from '../../src/backend/webgpu-vulkan.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';
import { countReadBacks } from '../../helpers/read-backs.js';
import type { Recommendation } from '../../../src/scoring/scorer.js';

const { skipReason } = await webGpuAvailability('transformer/BST');

const ITEMS = 3000;
type Backend = 'cpu' | 'wasm' | 'webgpu';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function use(backend: Backend): Promise<void> {
  await selectBackend({ backend, strict: true, force: true });
  expect(tf.getBackend()).toBe(backend);
}

/** Runs `fn` on `backend`; on webgpu, fails if anything calls Tensor.dataSync meanwhile. */
async function on<T>(backend: Backend, fn: () => Promise<T>): Promise<T> {
  await use(backend);
  const spy = vi.spyOn(tf.Tensor.prototype, 'dataSync');
  try {
    return await fn();
  } finally {
    if (backend === 'webgpu') expect(spy, 'sync reads on webgpu').not.toHaveBeenCalled();
    else expect(spy).toHaveBeenCalled(); // the spy sees the reads (wasm and cpu read synchronously)
    spy.mockRestore();
  }
}

function randomParams(overrides: Partial<TransformerConfig>): TransformerParams {
  const c = resolveTransformerConfig({ hiddenSize: 16, heads: 2, blocks: 2, feedForwardSize: 24, maxLength: 6, timeBuckets: 4, ...overrides });
  const p = new TransformerParams(c, ITEMS);
  p.initialize(new Rng(5));
  const r = new Rng(9);
  // Non-trivial biases and layer norms, so every weight matters.
  for (let i = 0; i < ITEMS; i++) p.outputBias[i] = r.next() * 0.1;
  for (const w of p.dense) if (/gamma|beta|b[qkvo12]$/.test(w.name)) for (let i = 0; i < w.values.length; i++) w.values[i] = w.values[i]! + (r.next() - 0.5) * 0.4;
  return p;
}

/**
 * Sessions of lengths up to twice the window streamed event by event: observe (no read-back) + recommend (one)
 * + score every step (awaited); the state tables read at the end.
 */
async function stream(p: TransformerParams): Promise<{ scores: Float32Array[]; recs: Recommendation[][]; state: Awaited<ReturnType<TransformerScorer['readState']>> }> {
  const scorer = new TransformerScorer(p);
  const r = new Rng(21);
  const lengths = [1, 3, 5, 7, 9, 12];
  const sessions: SessionState[] = lengths.map((_, i) => newSessionState(`s${i}`, 0, 0));
  const scores: Float32Array[] = [];
  const recs: Recommendation[][] = [];
  try {
    for (let t = 0; t < 12; t++) {
      const active = sessions.filter((_, i) => t < lengths[i]!);
      active.forEach((s, i) => { s.items.push(r.int(ITEMS)); (s.times as number[]).push(1000 * t * t + i * 777); });
      expect((await countReadBacks(() => scorer.observe(active))).reads).toBe(0);
      const rec = await countReadBacks(() => scorer.recommend(active, 10, active.map((s) => ({ exclude: new Set(s.items) }))));
      expect(rec.reads).toBe(1);
      recs.push(rec.result);
      scores.push((await scorer.score(active)).slice());
    }
    return { scores, recs, state: await scorer.readState(sessions) };
  } finally {
    scorer.dispose();
  }
}

/** Two TransformerStepper steps from the same initial weights; step on wasm, stepAsync on webgpu. */
async function twoSteps(backend: Backend, overrides: Partial<TransformerConfig>): Promise<{ losses: number[]; params: TransformerParams }> {
  const p = randomParams(overrides);
  const c = p.config;
  const support = Float64Array.from({ length: ITEMS }, (_, i) => 1 + (i % 13));
  const stepper = new TransformerStepper(p, c, new PopularitySampler(support, c.sampleAlpha), new Rng(3));
  const r = new Rng(4);
  const losses: number[] = [];
  for (let k = 0; k < 2; k++) {
    const windows: TrainingWindow[] = Array.from({ length: c.batchSize }, () => {
      const n = 2 + r.int(c.maxLength);
      return { items: Int32Array.from({ length: n }, () => r.int(ITEMS)), gaps: Float64Array.from({ length: n - 1 }, () => r.int(600_000)) };
    });
    losses.push(backend === 'wasm' ? stepper.step(windows) : await stepper.stepAsync(windows));
  }
  return { losses, params: p };
}

async function corpus() {
  const log = generateSessions({ items: ITEMS, intents: 25, sessions: 60, meanExtraLength: 3, seed: 5 });
  const vocabulary = ItemVocabulary.fromIds(Array.from({ length: ITEMS }, (_, i) => `i${i}`));
  return buildCorpus(log.train.map((s) => ({ items: s.items })), { vocabulary });
}

/** Training windows of `data` (sessions of ≤ maxLength + 1 items are one window each). */
function windowCount(data: { offsets: Int32Array }): number {
  let n = 0;
  for (let s = 0; s + 1 < data.offsets.length; s++) n += Math.max(0, Math.ceil((data.offsets[s + 1]! - data.offsets[s]! - 1) / TRAIN.maxLength));
  return n;
}

const TRAIN = { hiddenSize: 16, heads: 2, blocks: 2, feedForwardSize: 24, maxLength: 6, batchSize: 16, nSample: 128, epochs: 1, validationFraction: 0, seed: 7 };
const BST = { hiddenSize: 16, heads: 2, feedForwardSize: 24, mlp: [16, 8], maxLength: 6, batchSize: 32, maxPrefixes: 64, negatives: 4, useCandidateScore: false, seed: 3 };

describe.skipIf(skipReason !== undefined)('transformer and BST ranker on webgpu (Dawn over Vulkan) agree with wasm', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  afterAll(async () => { await selectBackend({ backend: 'wasm', force: true }); });

  it('streams observe + score through the KV cache (steps and window slides) like wasm, with no sync reads', async () => {
    const p = randomParams({});
    const a = await on('wasm', () => stream(p));
    const b = await on('webgpu', () => stream(p));
    b.scores.forEach((s, t) => expect(maxAbsDiff(s, a.scores[t]!), `scores at step ${t}`).toBeLessThan(1e-4));
    expect(new Set(a.scores[0]).size).toBeGreaterThan(ITEMS * 0.9); // not degenerate
    expect(b.state.lengths).toEqual(a.state.lengths);
    expect(maxAbsDiff(b.state.hidden, a.state.hidden)).toBeLessThan(1e-4);
    b.state.keys.forEach((k, blk) => expect(maxAbsDiff(k, a.state.keys[blk]!)).toBeLessThan(1e-4));
    b.state.values.forEach((v, blk) => expect(maxAbsDiff(v, a.state.values[blk]!)).toBeLessThan(1e-4));
    // recommend (tf.topk with the filters on webgpu, a host heap on wasm) picks the same items, except where
    // wasm's scores tie within the tolerance.
    b.recs.forEach((rows, t) => rows.forEach((rec, row) => {
      const ref = a.recs[t]![row]!;
      expect(rec.items.length).toBe(ref.items.length);
      rec.items.forEach((item, j) => {
        if (item !== ref.items[j]) expect(Math.abs(a.scores[t]![row * ITEMS + item]! - a.scores[t]![row * ITEMS + ref.items[j]!]!)).toBeLessThan(1e-4);
        expect(Math.abs(rec.scores[j]! - ref.scores[j]!)).toBeLessThan(1e-4);
      });
    }));
    // A score product of this size lives on the GPU: a sync read fails (so the await path was needed).
    await use('webgpu');
    const d = p.hiddenSize;
    expect(() => readSync(() => tf.matMul(tf.fill([6, d], 0.5), tf.fill([d, ITEMS], 0.5)))).toThrow(/OffscreenCanvas/);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('a training step (each readout, dot product and cosine scoring, time gaps, dropout) gives wasm\'s loss and weights', async () => {
    const cases = [{ readout: 'last', cosineTemperature: 0 }, { readout: 'item-attention', cosineTemperature: 0.2 }] as const;
    for (const { readout, cosineTemperature } of cases) {
      const overrides = { batchSize: 24, nSample: 256, cosineTemperature, readout };
      const a = await on('wasm', () => twoSteps('wasm', overrides));
      const b = await on('webgpu', () => twoSteps('webgpu', overrides));
      b.losses.forEach((l, k) => expect(Math.abs(l - a.losses[k]!), `loss ${k} (τ ${cosineTemperature})`).toBeLessThan(1e-5));
      const fresh = randomParams(overrides).named();
      const refW = a.params.named();
      b.params.named().forEach((w, i) => expect(maxAbsDiff(w.values, refW[i]!.values), w.name).toBeLessThan(1e-4));
      // The steps trained: the first block's query weights moved (the readout's scores first, where there is one:
      // they start at zero, so the blocks get no gradient in the first step).
      const moved = refW.findIndex((w) => w.name === (readout === 'last' ? 'block_0/wq' : 'readout_v'));
      expect(maxAbsDiff(fresh[moved]!.values, refW[moved]!.values), `${readout}: ${refW[moved]!.name} moved`).toBeGreaterThan(1e-3);
    }
    await use('webgpu');
    const p = randomParams({});
    const stepper = new TransformerStepper(p, p.config, new PopularitySampler(new Float64Array(ITEMS).fill(1), 0.5), new Rng(1));
    expect(() => stepper.step([{ items: Int32Array.of(1, 2, 3) }])).toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE' }));
  }, HEAVY_TEST_TIMEOUT_MS);

  it('the device-resident stepper\'s step on webgpu gives the host stepper\'s loss and weights on cpu (repeat bias, transition prior)', async () => {
    const overrides = { batchSize: 24, nSample: 256, repeatBias: true, transitionPrior: true };
    const windows = (r: Rng): TrainingWindow[] => Array.from({ length: overrides.batchSize }, () => {
      const n = 2 + r.int(6);
      const items = Int32Array.from({ length: n }, () => (r.next() < 0.3 ? r.int(8) : r.int(ITEMS)));
      return { items, gaps: Float64Array.from({ length: n - 1 }, () => r.int(600_000)), session: items };
    });
    const setup = () => {
      const p = randomParams(overrides);
      p.transitions = TransitionGraph.fromSessions({ offsets: Int32Array.of(0, 4, 8), items: Int32Array.of(0, 1, 2, 3, 1, 2, 5, 6) }, ITEMS);
      for (const n of ['repeat_bias', 'transition_weight']) p.get(n).fill(0.3);
      return { p, sampler: new PopularitySampler(Float64Array.from({ length: ITEMS }, (_, i) => 1 + (i % 13)), p.config.sampleAlpha) };
    };
    const ref = await on('cpu', async () => {
      const { p, sampler } = setup();
      const loss = new TransformerStepper(p, p.config, sampler, new Rng(3)).step(windows(new Rng(4)));
      return { loss, params: p };
    });
    const got = await on('webgpu', async () => {
      const { p, sampler } = setup();
      const stepper = new TransformerDeviceStepper(p, p.config, sampler, new Rng(3));
      try {
        const { reads } = await countReadBacks(() => stepper.step(windows(new Rng(4))));
        expect(reads, 'reads in a device step').toBe(0);
        const { loss } = await stepper.readLoss();
        await stepper.copyToHost();
        return { loss, params: p };
      } finally {
        stepper.dispose();
      }
    });
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
    const refW = ref.params.named();
    got.params.named().forEach((w, i) => expect(maxAbsDiff(w.values, refW[i]!.values), w.name).toBeLessThan(1e-4));
    // The step trained the scoring terms of the sparse entries.
    for (const n of ['repeat_bias', 'transition_weight']) expect(maxAbsDiff(ref.params.get(n), new Float32Array(6).fill(0.3)), n).toBeGreaterThan(1e-4);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('trainTransformer (one epoch) matches wasm', async () => {
    const data = await corpus();
    const run = (backend: Backend) => on(backend, () => countReadBacks((): Promise<TransformerTrainResult> => trainTransformer(data, { backend, config: TRAIN })));
    const { result: ref, reads: wasmReads } = await run('wasm');
    const { result: got, reads: gpuReads } = await run('webgpu');
    // wasm: one read per step; webgpu (TransformerDeviceStepper): the loss every 16 steps, the rest of it and
    // the weights at the epoch's end.
    const steps = Math.ceil(windowCount(data) / TRAIN.batchSize);
    expect(wasmReads).toBe(steps);
    expect(gpuReads).toBe(Math.floor(steps / 16) + (steps % 16 > 0 ? 1 : 0) + 1);
    expect(got.backend).toBe('webgpu');
    expect(ref.epochs[0]!.events).toBeGreaterThan(3 * TRAIN.batchSize); // several steps ran
    expect(got.epochs[0]!.events).toBe(ref.epochs[0]!.events);
    expect(Math.abs(got.epochs[0]!.loss - ref.epochs[0]!.loss)).toBeLessThan(1e-5);
    const refW = ref.params.named();
    got.params.named().forEach((w, i) => expect(maxAbsDiff(w.values, refW[i]!.values), w.name).toBeLessThan(1e-4));
  }, HEAVY_TEST_TIMEOUT_MS);

  it('BST ranker: logitsAsync and a trainBstRanker run match wasm', async () => {
    const p = BstRankerParams.fromConfig({ ...BST, timeBuckets: 6 }, ITEMS);
    const r = new Rng(1);
    for (const w of p.block.dense) for (let i = 0; i < w.values.length; i++) w.values[i] = w.values[i]! + (r.next() - 0.5) * 0.2;
    const sessions = [[3, 4, 5, 6, 7, 8, 9, 10], [11], [12, 13]].map((items, i) => {
      const s = newSessionState(`b${i}`, 0, 0);
      s.items.push(...items);
      (s.times as number[]).push(...items.map((_, t) => t * 60_000 + i));
      return s;
    });
    const M = 40;
    const cands = Int32Array.from({ length: sessions.length * M }, () => r.int(ITEMS));
    const logits = (backend: Backend) => on(backend, async () => {
      const ranker = new BstRanker(p);
      try {
        return backend === 'wasm' ? ranker.logits(sessions, cands, M) : await ranker.logitsAsync(sessions, cands, M);
      } finally {
        ranker.dispose();
      }
    });
    const a = await logits('wasm');
    const b = await logits('webgpu');
    expect(maxAbsDiff(b, a)).toBeLessThan(1e-4);
    expect(new Set(a).size).toBeGreaterThan(a.length * 0.9);
    await use('webgpu');
    const ranker = new BstRanker(p);
    expect(() => ranker.logits(sessions, cands, M)).toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE' }));
    ranker.dispose();

    const data = await corpus();
    const train = (backend: Backend) => on(backend, () => trainBstRanker(data, { backend, config: BST }));
    const ref = await train('wasm');
    const got = await train('webgpu');
    expect(got.backend).toBe('webgpu');
    expect(ref.epochs[0]!.prefixes).toBe(BST.maxPrefixes);
    expect(Math.abs(got.epochs[0]!.loss - ref.epochs[0]!.loss)).toBeLessThan(1e-5);
    const refW = ref.params.named();
    got.params.named().forEach((w, i) => expect(maxAbsDiff(w.values, refW[i]!.values), w.name).toBeLessThan(1e-4));
  }, HEAVY_TEST_TIMEOUT_MS);
});
