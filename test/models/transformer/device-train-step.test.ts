// The device-resident transformer stepper (weights, optimiser state and the step's tensors on the backend; what
// webgpu trains with) must train exactly like the host stepper: same draws, same loss function, same update
// rules. It runs on cpu and wasm here (the webgpu suite compares it on lavapipe).
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { countReadBacks } from '../../helpers/read-backs.js';
import { Rng } from '../../../models/training/rng.js';
import { PopularitySampler } from '../../../models/training/sampler.js';
import { resolveTransformerConfig, type TransformerConfig } from '../../../models/transformer/config.js';
import { TransformerDeviceStepper } from '../../../models/transformer/device-train-step.js';
import { TransformerParams } from '../../../models/transformer/params.js';
import { LOSS_READ_INTERVAL } from '../../../models/training/device-optimizer.js';
import { TransformerStepper, trainBatches, type TrainingWindow } from '../../../models/transformer/train-step.js';
import { TransitionGraph } from '../../../models/transformer/transitions.js';

const ITEMS = 40;
const small = { hiddenSize: 8, heads: 2, blocks: 2, feedForwardSize: 12, maxLength: 6, nSample: 30, batchSize: 8, timeBuckets: 4 } as const;
const sessions = { offsets: Int32Array.of(0, 3, 6, 9, 13), items: Int32Array.of(1, 2, 3, 2, 3, 4, 5, 1, 2, 7, 8, 7, 9) };
const support = Float64Array.from({ length: ITEMS }, (_, i) => 1 + (i % 7));

function params(c: TransformerConfig): TransformerParams {
  const p = new TransformerParams(c, ITEMS);
  p.initialize(new Rng(1));
  // Non-zero readout and scoring terms, so every weight gets a gradient from the first step on.
  const r = new Rng(9);
  for (const w of p.dense) if (/readout_v|repeat_bias|transition_weight/.test(w.name)) for (let i = 0; i < w.values.length; i++) w.values[i] = (r.next() - 0.5) * 0.5;
  if (c.transitionPrior) p.transitions = TransitionGraph.fromSessions(sessions, ITEMS);
  return p;
}

/** Host and device steppers from the same weights and the same seeds. */
function pair(overrides: Partial<TransformerConfig>) {
  const c = resolveTransformerConfig({ ...small, ...overrides });
  const hostParams = params(c), deviceParams = params(c);
  const sampler = new PopularitySampler(support, c.sampleAlpha);
  return { c, hostParams, deviceParams, host: new TransformerStepper(hostParams, c, sampler, new Rng(2)), device: new TransformerDeviceStepper(deviceParams, c, sampler, new Rng(2)) };
}

/** Windows with repeats (so the repeat bias has entries) drawn from `r`. */
function batch(r: Rng): TrainingWindow[] {
  return Array.from({ length: 6 }, () => {
    const n = 2 + r.int(small.maxLength);
    const items = Int32Array.from({ length: n }, () => (r.next() < 0.3 ? 1 + r.int(4) : r.int(ITEMS)));
    return { items, gaps: Float64Array.from({ length: n - 1 }, (_, t) => (t === 0 ? NaN : 1000 * t * t)), session: items };
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const configs: [string, Partial<TransformerConfig>][] = [
  ['cross-entropy, item attention, cosine, repeat bias and transition prior, Adam', { repeatBias: true, transitionPrior: true }],
  ['cross-entropy, last readout, dot product, no repeat bias or prior, Adam', { readout: 'last', cosineTemperature: 0 }],
  ['BPR-max, Adagrad with momentum', { loss: 'bpr-max', cosineTemperature: 0, optimizer: 'adagrad', momentum: 0.3, learningRate: 0.05 }],
];

describe('TransformerDeviceStepper (weights and optimiser state on the backend)', () => {
  afterAll(async () => { await selectBackend({ backend: 'wasm', force: true }); });

  for (const backend of ['cpu', 'wasm'] as const) {
    it.each(configs)(`${backend}: equals the host stepper after 30 steps and reads nothing per step (%s)`, async (_, overrides) => {
      await selectBackend({ backend, force: true, strict: true });
      const { hostParams, deviceParams, host, device } = pair(overrides);
      const fresh = hostParams.named().map((w) => w.values.slice());
      const schedule = { learningRateScale: 0.7 };
      host.setSchedule(schedule); device.setSchedule(schedule);
      const r1 = new Rng(3), r2 = new Rng(3);
      let hostLoss = 0, positions = 0, reads = 0;
      for (let k = 0; k < 30; k++) {
        const b = batch(r1);
        const n = b.reduce((m, w) => m + w.items.length - 1, 0);
        hostLoss += host.step(b) * n;
        positions += n;
        reads += (await countReadBacks(() => device.step(batch(r2)))).reads;
      }
      expect(reads).toBe(0);
      const { result: loss, reads: lossReads } = await countReadBacks(() => device.readLoss());
      expect(lossReads).toBe(1);
      expect(loss.events).toBe(positions);
      expect(Math.abs(loss.loss - hostLoss / positions)).toBeLessThan(1e-4);
      expect((await countReadBacks(() => device.copyToHost())).reads).toBe(1);
      hostParams.named().forEach((w, i) => {
        const diff = maxAbsDiff(w.values, deviceParams.named()[i]!.values);
        if (process.env['PRINT_DIFFS']) console.log(backend, w.name, diff);
        expect(diff, w.name).toBeLessThan(1e-4);
        // Every weight trained but two whose gradient is float noise: the attention's key bias adds the same
        // q·bk to all of a query's logits, and with the item-attention readout the final layer norm's beta adds
        // the same v·β to all readout logits; the softmax cancels both.
        const dead = w.name.endsWith('/bk') || (w.name === 'final_ln_beta' && overrides.readout !== 'last');
        if (!dead) expect(maxAbsDiff(w.values, fresh[i]!), `${w.name} trained`).toBeGreaterThan(1e-4);
      });
      device.dispose();
    });
  }

  it('leaks no tensor over 100 steps and loss reads (wasm)', async () => {
    await selectBackend({ backend: 'wasm', force: true, strict: true });
    const { device } = pair({ repeatBias: true, transitionPrior: true });
    const r = new Rng(4);
    device.step(batch(r));
    await device.readLoss();
    const before = tf.memory().numTensors;
    for (let k = 0; k < 100; k++) {
      device.step(batch(r));
      if (k % LOSS_READ_INTERVAL === 0) await device.readLoss();
    }
    await device.readLoss();
    await device.copyToHost();
    expect(tf.memory().numTensors).toBe(before);
    device.dispose();
  });

  it('trainBatches with it reads the loss once per 16 steps and the weights once, with the host stepper\'s totals (cpu)', async () => {
    await selectBackend({ backend: 'cpu', force: true, strict: true });
    const { hostParams, deviceParams, host, device } = pair({ repeatBias: true });
    const steps = 20;
    const batches = (seed: number) => { const r = new Rng(seed); return Array.from({ length: steps }, () => batch(r)); };
    const progress: number[] = [];
    const a = await trainBatches(host, batches(5));
    const { result: b, reads } = await countReadBacks(() => trainBatches(device, batches(5), { progress: (t) => { progress.push(t.steps); } }));
    // A read at step 16, then the last 4 steps' loss and the weights.
    expect(reads).toBe(Math.floor(steps / LOSS_READ_INTERVAL) + 2);
    expect(reads).toBeLessThanOrEqual(Math.ceil(steps / LOSS_READ_INTERVAL) + 1);
    expect(progress).toEqual([16]);
    expect(b.steps).toBe(steps);
    expect(b.events).toBe(a.events);
    expect(Math.abs(b.lossSum - a.lossSum) / a.events).toBeLessThan(1e-4);
    // trainBatches left the host weights current.
    hostParams.named().forEach((w, i) => expect(maxAbsDiff(w.values, deviceParams.named()[i]!.values), w.name).toBeLessThan(1e-4));
    device.dispose();
  });
});
