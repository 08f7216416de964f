import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { countReadBacks } from '../../helpers/read-backs.js';
import { Rng } from '../../../models/training/rng.js';
import { PopularitySampler } from '../../../models/training/sampler.js';
import { resolveTransformerConfig, type TransformerConfig } from '../../../models/transformer/config.js';
import { TransformerParams } from '../../../models/transformer/params.js';
import { TransformerStepper, type TrainingWindow } from '../../../models/transformer/train-step.js';
import { TransitionGraph } from '../../../models/transformer/transitions.js';

const ITEMS = 40;
const small = { hiddenSize: 8, heads: 2, blocks: 2, feedForwardSize: 12, maxLength: 6, nSample: 30, batchSize: 8, timeBuckets: 4 } as const;

function stepper(overrides: Partial<TransformerConfig> = {}): { p: TransformerParams; s: TransformerStepper } {
  const c = resolveTransformerConfig({ ...small, ...overrides });
  const p = new TransformerParams(c, ITEMS);
  p.initialize(new Rng(1));
  const sessions = { offsets: Int32Array.of(0, 3, 6, 9), items: Int32Array.of(1, 2, 3, 2, 3, 4, 5, 1, 2) };
  if (c.transitionPrior) p.transitions = TransitionGraph.fromSessions(sessions, ITEMS);
  const support = Float64Array.from({ length: ITEMS }, (_, i) => 1 + (i % 7));
  return { p, s: new TransformerStepper(p, c, new PopularitySampler(support, c.sampleAlpha), new Rng(2)) };
}

function batch(r: Rng): TrainingWindow[] {
  return Array.from({ length: 6 }, () => {
    const n = 2 + r.int(small.maxLength);
    const items = Int32Array.from({ length: n }, () => r.int(ITEMS));
    return { items, gaps: Float64Array.from({ length: n - 1 }, (_, t) => (t === 0 ? NaN : 1000 * t * t)), session: items };
  });
}

const configs: [string, Partial<TransformerConfig>][] = [
  ['item-attention, cosine scoring, repeat bias and transition prior', { repeatBias: true, transitionPrior: true }],
  ['last readout, dot product', { readout: 'last', cosineTemperature: 0 }],
  ['BPR-max', { loss: 'bpr-max', cosineTemperature: 0 }],
];

describe('TransformerStepper (autodiff training step)', () => {
  afterAll(async () => { await selectBackend({ backend: 'wasm' }); });

  for (const backend of ['cpu', 'wasm'] as const) {
    it.each(configs)(`${backend}: one read-back per step, every weight of the model trained (%s)`, async (_, overrides) => {
      await selectBackend({ backend });
      const { p, s } = stepper(overrides);
      const r = new Rng(3);
      const before = p.named().map((w) => w.values.slice());
      s.step(batch(r)); // the readout's scores start at zero: the second step reaches every weight
      const { result: loss, reads } = await countReadBacks(() => s.step(batch(r)));
      expect(reads).toBe(1);
      expect(Number.isFinite(loss) && loss > 0).toBe(true);
      p.named().forEach((w, i) => expect(w.values.some((x, k) => x !== before[i]![k]), `${w.name} changed`).toBe(true));
    });
  }

  it('does not leak tensors over 100 steps (wasm)', async () => {
    await selectBackend({ backend: 'wasm' });
    const { s } = stepper({ repeatBias: true, transitionPrior: true });
    const r = new Rng(4);
    s.step(batch(r));
    const base = tf.memory().numTensors;
    for (let k = 0; k < 100; k++) s.step(batch(r));
    expect(tf.memory().numTensors).toBe(base);
  });

  it('learns: the loss on a fixed batch falls', async () => {
    await selectBackend({ backend: 'wasm' });
    const { s } = stepper({ dropoutEmbedding: 0, dropoutHidden: 0, learningRate: 0.01 });
    const fixed = batch(new Rng(5));
    const first = s.step(fixed);
    let last = first;
    for (let k = 0; k < 30; k++) last = s.step(fixed);
    expect(last).toBeLessThan(first * 0.7);
  });

  it('cpu and wasm train the same weights', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend({ backend });
      const { p, s } = stepper({ repeatBias: true, transitionPrior: true });
      const r = new Rng(6);
      const losses = [s.step(batch(r)), s.step(batch(r))];
      return { losses, weights: p.named().map((w) => w.values) };
    };
    const a = await run('cpu'), b = await run('wasm');
    b.losses.forEach((l, k) => expect(Math.abs(l - a.losses[k]!)).toBeLessThan(1e-4));
    b.weights.forEach((w, i) => expect(Math.max(...w.map((x, k) => Math.abs(x - a.weights[i]![k]!)))).toBeLessThan(1e-3));
  });
});
