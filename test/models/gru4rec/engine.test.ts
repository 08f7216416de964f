import { describe, expect, it } from 'vitest';
import { resolveGru4RecConfig } from '../../../models/gru4rec/config.js';
import { Gru4RecParams } from '../../../models/gru4rec/params.js';
import { Gru4RecScorer } from '../../../models/gru4rec/scorer.js';
import { Gru4RecDeviceStepper } from '../../../models/gru4rec/device-train-step.js';
import { Gru4RecStepper } from '../../../models/gru4rec/train-step.js';
import { Rng } from '../../../models/training/rng.js';
import { PopularitySampler } from '../../../models/training/sampler.js';
import { SessionParallelBatcher } from '../../../models/training/session-batcher.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { newSessionState } from '../../../src/sessions/session-state.js';
import { countReadBacks } from '../../helpers/read-backs.js';

function toyData(n: number, sessions: number, seed: number) {
  const rng = new Rng(seed);
  const offsets = new Int32Array(sessions + 1);
  const items: number[] = [];
  for (let s = 0; s < sessions; s++) {
    const len = 2 + rng.int(5);
    for (let i = 0; i < len; i++) items.push(rng.int(n));
    offsets[s + 1] = items.length;
  }
  return { offsets, items: Int32Array.from(items) };
}

// The engine's contract (issue #16): one read-back per training step and per serving step on sync backends,
// no tensor left behind.
describe.each(['cpu', 'wasm'] as const)('GRU4Rec engine on %s', (backend) => {
  it.each(['bpr-max', 'cross-entropy'] as const)('reads back once per training step (%s) and leaks no tensor over 100 steps', async (loss) => {
    await selectBackend({ backend, force: true, strict: true });
    const N = 50;
    const config = resolveGru4RecConfig({ layers: [8, 6], loss, batchSize: 8, nSample: 16, seed: 1 });
    const params = new Gru4RecParams(config, N);
    params.initialize(new Rng(2));
    const stepper = new Gru4RecStepper(params, config, new PopularitySampler(new Float64Array(N).fill(1), 0.5), new Rng(3));
    const data = toyData(N, 400, 4);
    const batcher = new SessionParallelBatcher(data, config.batchSize);
    batcher.step();
    stepper.step(batcher.batch); // kernels and constants warmed up
    const before = tf.memory().numTensors;
    let steps = 0, reads = 0;
    while (steps < 100 && batcher.step()) {
      reads += (await countReadBacks(() => stepper.step(batcher.batch))).reads;
      steps++;
    }
    expect(steps).toBe(100);
    expect(reads).toBe(steps);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(['bpr-max', 'cross-entropy'] as const)('trains a one-row step without shared negatives (%s)', async (loss) => {
    await selectBackend({ backend, force: true, strict: true });
    const config = resolveGru4RecConfig({ layers: [4], loss, batchSize: 1, nSample: 0, seed: 1 });
    const params = new Gru4RecParams(config, 10);
    params.initialize(new Rng(2));
    const stepper = new Gru4RecStepper(params, config, new PopularitySampler(new Float64Array(10).fill(1), 0.5), new Rng(3));
    const batch = { size: 1, inputs: Int32Array.of(2), targets: Int32Array.of(5), slots: Int32Array.of(0), reset: Uint8Array.of(1) };
    expect(Number.isFinite(stepper.step(batch))).toBe(true);
  });

  it('advances a batch of sessions on the backend without a read, whatever the number of layers, and leaks nothing', async () => {
    await selectBackend({ backend, force: true, strict: true });
    const config = resolveGru4RecConfig({ layers: [8, 6, 5], seed: 1 });
    const params = new Gru4RecParams(config, 30);
    params.initialize(new Rng(2));
    const scorer = new Gru4RecScorer(params);
    const sessions = [0, 1, 2].map((k) => { const s = newSessionState(`s${k}`, 0, 0); s.items.push(k); return s; });
    scorer.observe(sessions);
    const before = tf.memory().numTensors;
    for (let t = 0; t < 10; t++) {
      sessions.forEach((s, k) => s.items.push((t * 3 + k) % 30));
      expect((await countReadBacks(() => scorer.observe(sessions))).reads).toBe(0);
    }
    expect(tf.memory().numTensors).toBe(before);
    scorer.dispose();
  });
});

// The device stepper (parameters, optimiser state and hidden states on the backend; for webgpu) must train
// exactly like the host stepper: same draws, same graph, same update rules.
describe.each(['cpu', 'wasm'] as const)('GRU4Rec device-resident training on %s', (backend) => {
  it.each([
    ['bpr-max', true, 'adagrad', false],
    ['cross-entropy', false, 'adam', false],
    ['bpr-max', true, 'adagrad', true],
    ['cross-entropy', true, 'adam', true],
  ] as const)('matches the host stepper (%s, constrained %s, %s, repeatBias %s) and reads nothing per step', async (loss, constrainedEmbedding, optimizer, repeatBias) => {
    await selectBackend({ backend, force: true, strict: true });
    const N = 40;
    const config = resolveGru4RecConfig({ layers: [7, 6], loss, constrainedEmbedding, embeddingSize: 5, optimizer, repeatBias, batchSize: 6, nSample: 10, seed: 1, momentum: 0.2 });
    const init = new Gru4RecParams(config, N);
    init.initialize(new Rng(2));
    const copy = () => { const q = new Gru4RecParams(config, N); q.named().forEach((w, i) => w.values.set(init.named()[i]!.values)); return q; };
    const hostParams = copy(), deviceParams = copy();
    const sampler = new PopularitySampler(new Float64Array(N).fill(1), 0.5);
    const host = new Gru4RecStepper(hostParams, config, sampler, new Rng(3));
    const device = new Gru4RecDeviceStepper(deviceParams, config, sampler, new Rng(3));
    const data = toyData(N, 60, 5);
    const b1 = new SessionParallelBatcher(data, config.batchSize), b2 = new SessionParallelBatcher(data, config.batchSize);
    b1.step(); b2.step();
    host.step(b1.batch);
    device.step(b2.batch);
    await device.readLoss();
    let hostLoss = 0, events = 0, reads = 0, steps = 0;
    const before = tf.memory().numTensors;
    while (steps < 30 && b1.step() && b2.step()) {
      hostLoss += host.step(b1.batch) * b1.batch.size;
      events += b1.batch.size;
      reads += (await countReadBacks(() => device.step(b2.batch))).reads;
      steps++;
    }
    expect(steps).toBe(30);
    expect(reads).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const { loss: meanLoss, events: counted } = await device.readLoss();
    expect(counted).toBe(events);
    expect(meanLoss).toBeCloseTo(hostLoss / events, 4);
    await device.copyToHost();
    hostParams.named().forEach((w, i) => {
      const other = deviceParams.named()[i]!.values;
      let max = 0;
      for (let k = 0; k < w.values.length; k++) max = Math.max(max, Math.abs(w.values[k]! - other[k]!));
      expect(max, w.name).toBeLessThan(1e-4);
    });
    device.dispose();
  });
});
