import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { trainBackward, trainForward } from '../../../models/transformer/backprop.js';
import { resolveTransformerConfig } from '../../../models/transformer/config.js';
import { embedWindows, forwardSequence, uploadDense } from '../../../models/transformer/forward.js';
import { TransformerParams } from '../../../models/transformer/params.js';
import { Rng } from '../../../models/training/rng.js';

const config = resolveTransformerConfig({ hiddenSize: 8, heads: 2, blocks: 2, feedForwardSize: 12, maxLength: 5, dropoutEmbedding: 0, dropoutHidden: 0 });
const windows = [Int32Array.of(1, 4, 2, 7), Int32Array.of(3, 3), Int32Array.of(0, 5, 6, 8)];
const T = 4, B = windows.length, d = config.hiddenSize;

function makeParams(): TransformerParams {
  const p = new TransformerParams(config, 10);
  p.initialize(new Rng(7));
  // Non-trivial layer-norm gains and biases, so their gradients are exercised too.
  const r = new Rng(3);
  for (const w of p.dense) if (/gamma|beta|b[qkvo12]$/.test(w.name)) for (let i = 0; i < w.values.length; i++) w.values[i] = w.values[i]! + (r.next() - 0.5) * 0.4;
  return p;
}

/** A scalar loss of the output with fixed random weights; padded rows excluded. */
function lossOf(p: TransformerParams, x: Float32Array, weights: Float32Array): number {
  const out = trainForward(p, x, B, T).out;
  let s = 0;
  windows.forEach((w, b) => { for (let t = 0; t < w.length; t++) for (let i = 0; i < d; i++) s += out[(b * T + t) * d + i]! * weights[(b * T + t) * d + i]!; });
  return s;
}

describe('transformer training math', () => {
  beforeAll(async () => { await selectBackend({ backend: 'wasm' }); });

  it('the JavaScript training forward equals the TF.js inference forward', () => {
    const p = makeParams();
    const x = embedWindows(p, windows, T);
    const js = trainForward(p, x, B, T).out;
    const dense = uploadDense(p);
    const ref = tf.tidy(() => forwardSequence(dense, config, tf.tensor2d(x, [B * T, d]), B, T).hidden.dataSync() as Float32Array);
    tf.dispose([...dense.values()]);
    let max = 0;
    windows.forEach((w, b) => { for (let t = 0; t < w.length; t++) for (let i = 0; i < d; i++) max = Math.max(max, Math.abs(js[(b * T + t) * d + i]! - ref[(b * T + t) * d + i]!)); });
    expect(max).toBeLessThan(1e-5);
  });

  it('backward matches finite differences for inputs and every kind of dense weight', () => {
    const p = makeParams();
    const x = embedWindows(p, windows, T);
    const r = new Rng(11);
    const weights = Float32Array.from({ length: B * T * d }, () => r.next() * 2 - 1);
    windows.forEach((w, b) => { for (let t = w.length; t < T; t++) weights.fill(0, (b * T + t) * d, (b * T + t + 1) * d); });
    const cache = trainForward(p, x, B, T);
    const grads = new Map(p.dense.map((w) => [w.name, new Float32Array(w.values.length)]));
    const dx = trainBackward(p, cache, weights, grads);
    const eps = 1e-2;
    const check = (arr: Float32Array, idx: number, analytic: number) => {
      const old = arr[idx]!;
      arr[idx] = old + eps; const up = lossOf(p, x, weights);
      arr[idx] = old - eps; const down = lossOf(p, x, weights);
      arr[idx] = old;
      const numeric = (up - down) / (2 * eps);
      expect(Math.abs(numeric - analytic)).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
    };
    for (const idx of [0, 5, 9, 17, 30, 50]) check(x, idx, dx[idx]!);
    for (const name of ['block_0/wq', 'block_0/wk', 'block_0/wv', 'block_1/wo', 'block_1/w1', 'block_0/b2', 'block_0/ln1_gamma', 'block_1/ln2_beta', 'final_ln_gamma']) {
      const values = p.get(name);
      for (const idx of [0, 3, values.length - 1]) check(values, idx, grads.get(name)![idx]!);
    }
  });
});
