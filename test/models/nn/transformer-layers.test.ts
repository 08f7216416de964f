import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../models/nn/gradients.js';
import { causalMask, lengthMask, multiHeadAttention } from '../../../models/nn/attention.js';
import { normalizeRows } from '../../../models/nn/cosine.js';
import { dense, matMul } from '../../../models/nn/dense.js';
import { layerNorm } from '../../../models/nn/layer-norm.js';
import { itemAttention, readoutLogits } from '../../../models/nn/readout.js';
import { bprMaxLoss, logSumExpRows, sampledSoftmaxLoss, scatterAdd } from '../../../models/nn/sampled-softmax.js';
import { Rng } from '../../../models/training/rng.js';

/** Random values in [−scale, scale), fixed seed. */
function random(n: number, seed: number, scale = 1): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => (r.next() * 2 - 1) * scale);
}

/**
 * Checks TF.js autodiff of `f` (inputs → scalar) against central finite differences at a few entries of every
 * input, in float64-free float32 arithmetic (so with a loose tolerance).
 */
function checkGradients(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: { values: Float32Array; shape: number[] }[], eps = 1e-2): void {
  const value = (vals: Float32Array[]) => tf.tidy(() => f(...vals.map((v, i) => tf.tensor(v, inputs[i]!.shape))).dataSync()[0]!);
  const analytic = tf.tidy(() => tf.grads(f)(inputs.map((x) => tf.tensor(x.values, x.shape))).map((g) => g.dataSync() as Float32Array));
  const vals = inputs.map((x) => x.values.slice());
  inputs.forEach((x, k) => {
    const n = x.values.length;
    for (const idx of new Set([0, 1, Math.floor(n / 3), Math.floor(n / 2), n - 1])) {
      const old = vals[k]![idx]!;
      vals[k]![idx] = old + eps; const up = value(vals);
      vals[k]![idx] = old - eps; const down = value(vals);
      vals[k]![idx] = old;
      const numeric = (up - down) / (2 * eps);
      expect(Math.abs(numeric - analytic[k]![idx]!), `input ${k}[${idx}]: numeric ${numeric}, autodiff ${analytic[k]![idx]}`).toBeLessThan(3e-3 + 3e-2 * Math.abs(numeric));
    }
  });
}

/** A fixed random linear functional of `y` (a scalar whose gradient is not trivially uniform). */
function probe(y: tf.Tensor, seed: number): tf.Scalar {
  return tf.sum(tf.mul(y, tf.tensor(random(y.size, seed), y.shape)));
}

describe('transformer layers (TF.js ops): autodiff gradients match finite differences on cpu', () => {
  beforeAll(async () => { await selectBackend({ backend: 'cpu' }); });

  it('matMul with explicitly transposed gradients, and dense', () => {
    checkGradients((a, b) => probe(matMul(a as tf.Tensor2D, b as tf.Tensor2D), 1), [{ values: random(12, 2), shape: [3, 4] }, { values: random(20, 3), shape: [4, 5] }]);
    checkGradients((x, w, b) => probe(dense(x as tf.Tensor2D, w!, b!), 4), [{ values: random(12, 5), shape: [3, 4] }, { values: random(8, 6), shape: [4, 2] }, { values: random(2, 7), shape: [2] }]);
    // The same values as TF.js's own matMul.
    const got = tf.tidy(() => matMul(tf.tensor2d(random(6, 8), [2, 3]), tf.tensor2d(random(12, 9), [3, 4])).dataSync());
    const want = tf.tidy(() => tf.matMul(tf.tensor2d(random(6, 8), [2, 3]), tf.tensor2d(random(12, 9), [3, 4])).dataSync());
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('layer norm', () => {
    checkGradients((x, g, b) => probe(layerNorm(x!, g!, b!), 10), [{ values: random(15, 11, 2), shape: [3, 5] }, { values: random(5, 12), shape: [5] }, { values: random(5, 13), shape: [5] }]);
  });

  it('causal multi-head attention over a window, and one query over keys of different lengths', () => {
    const B = 2, T = 4, d = 6;
    checkGradients((q, k, v) => probe(multiHeadAttention(q as tf.Tensor2D, k as tf.Tensor2D, v as tf.Tensor2D, { B, Tq: T, Tk: T, heads: 2 }, causalMask(T)), 14),
      [{ values: random(B * T * d, 15), shape: [B * T, d] }, { values: random(B * T * d, 16), shape: [B * T, d] }, { values: random(B * T * d, 17), shape: [B * T, d] }]);
    checkGradients((q, k, v) => probe(multiHeadAttention(q as tf.Tensor2D, k as tf.Tensor2D, v as tf.Tensor2D, { B, Tq: 1, Tk: T, heads: 3 }, lengthMask([2, 4], T)), 18),
      [{ values: random(B * d, 19), shape: [B, d] }, { values: random(B * T * d, 20), shape: [B * T, d] }, { values: random(B * T * d, 21), shape: [B * T, d] }]);
  });

  it('attention masks: a causal query ignores later keys, a length mask ignores keys past the length', () => {
    const B = 1, T = 3, d = 4;
    const q = random(T * d, 22), k = random(T * d, 23), v = random(T * d, 24);
    const run = (vals: Float32Array) => tf.tidy(() => multiHeadAttention(tf.tensor2d(q, [T, d]), tf.tensor2d(k, [T, d]), tf.tensor2d(vals, [T, d]), { B, Tq: T, Tk: T, heads: 2 }, causalMask(T)).dataSync());
    const changedLast = v.slice(); changedLast.fill(9, 2 * d);
    const a = run(v), b = run(changedLast);
    expect(Array.from(a.subarray(0, 2 * d))).toEqual(Array.from(b.subarray(0, 2 * d)));
    expect(Array.from(a.subarray(2 * d))).not.toEqual(Array.from(b.subarray(2 * d)));
  });

  it('item-attention readout', () => {
    const B = 2, T = 3, d = 4;
    checkGradients((h, v, x) => {
      const logits = tf.reshape(readoutLogits(h as tf.Tensor2D, v!), [B, T]) as tf.Tensor2D;
      return probe(itemAttention(logits, tf.reshape(x!, [B, T, d]) as tf.Tensor3D, causalMask(T)), 25);
    }, [{ values: random(B * T * d, 26), shape: [B * T, d] }, { values: random(d, 27), shape: [d] }, { values: random(B * T * d, 28), shape: [B * T, d] }]);
  });

  it('row normalisation (cosine scoring) and the row log-sum-exp', () => {
    checkGradients((x) => probe(normalizeRows(x as tf.Tensor2D, 3), 29), [{ values: random(12, 30), shape: [3, 4] }]);
    checkGradients((x) => probe(logSumExpRows(x as tf.Tensor2D), 31), [{ values: random(12, 32, 3), shape: [3, 4] }]);
  });

  it('scatterAdd sums repeated indices and passes the gradient to each entry', () => {
    const idx = Int32Array.of(0, 1, 2, 0, 0, 1);
    const got = tf.tidy(() => scatterAdd(tf.tensor2d(idx, [3, 2], 'int32'), tf.tensor1d([1, 2, 3]), [3, 2]).dataSync());
    expect(Array.from(got)).toEqual([0, 4, 0, 0, 2, 0]);
    checkGradients((v) => probe(scatterAdd(tf.tensor2d(idx, [3, 2], 'int32'), v as tf.Tensor1D, [3, 2]), 33), [{ values: random(3, 34), shape: [3] }]);
  });

  /**
   * Sampled softmax over columns that repeat items, the reference way: every sampled column scored, row i's
   * positive is its own target column, the target's other copies masked out.
   */
  function referenceLoss(h: Float32Array, o: Float32Array, bias: Float32Array, columns: Int32Array, P: number, d: number, extra: Map<string, number>): number {
    let total = 0;
    for (let i = 0; i < P; i++) {
      const logits: number[] = [];
      columns.forEach((it, j) => {
        if (j !== i && it === columns[i]) return;
        let z = bias[it]!;
        for (let k = 0; k < d; k++) z += h[i * d + k]! * o[it * d + k]!;
        logits.push(z + (extra.get(`${i},${it}`) ?? 0));
        if (j === i) logits.unshift(logits.pop()!);
      });
      const max = Math.max(...logits);
      total += max + Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0)) - logits[0]!;
    }
    return total;
  }

  it('sampled softmax with merged columns equals the softmax over every sampled column, and its gradients match', () => {
    const P = 3, d = 4, items = 5;
    const columns = Int32Array.of(2, 0, 2, 4, 2, 1, 0); // targets 2, 0, 2 then samples
    const h = random(P * d, 35), table = random(items * d, 36), bias = random(items, 37);
    // Merged: distinct items in order of first appearance, with log(copies).
    const mergedItems = [2, 0, 4, 1], copies = [3, 2, 1, 1];
    const columnOf = new Map(mergedItems.map((it, j) => [it, j]));
    const o = new Float32Array(mergedItems.length * d);
    mergedItems.forEach((it, j) => o.set(table.subarray(it * d, (it + 1) * d), j * d));
    const targetColumn = Int32Array.from(columns.subarray(0, P), (it) => columnOf.get(it)!);
    const logCount = Float32Array.from(copies, Math.log);
    // Sparse extras (repeat-bias-like): row 0 gets +0.7 on item 4, row 2 +0.3 on its target item 2.
    const extraIdx = Int32Array.of(0, columnOf.get(4)!, 2, columnOf.get(2)!);
    const extraVals = Float32Array.of(0.7, 0.3);
    const loss = (hh: tf.Tensor, oo: tf.Tensor, b: tf.Tensor, ev: tf.Tensor) => sampledSoftmaxLoss(hh as tf.Tensor2D, oo as tf.Tensor2D, {
      shift: tf.sub(logCount.map((x) => -x), b) as tf.Tensor1D, targetColumn, targetLogCount: Float32Array.from(targetColumn, (c) => logCount[c]!),
      extra: { indices: tf.tensor2d(extraIdx, [2, 2], 'int32'), values: ev as tf.Tensor1D },
    });
    const mergedBias = Float32Array.from(mergedItems, (it) => bias[it]!);
    const got = tf.tidy(() => loss(tf.tensor2d(h, [P, d]), tf.tensor2d(o, [4, d]), tf.tensor1d(mergedBias), tf.tensor1d(extraVals)).dataSync()[0]!);
    const want = referenceLoss(h, table, bias, columns, P, d, new Map([['0,4', 0.7], ['2,2', 0.3]]));
    expect(Math.abs(got - want)).toBeLessThan(1e-4);
    checkGradients(loss, [{ values: h, shape: [P, d] }, { values: o, shape: [4, d] }, { values: mergedBias, shape: [4] }, { values: extraVals, shape: [2] }]);
  });

  it('BPR-max', () => {
    const P = 3, C = 7;
    const columnItems = Int32Array.of(5, 1, 5, 2, 3, 1, 4);
    checkGradients((s) => bprMaxLoss(s as tf.Tensor2D, columnItems, 0.5, false), [{ values: random(P * C, 38), shape: [P, C] }]);
    checkGradients((s) => bprMaxLoss(s as tf.Tensor2D, columnItems, 0.5, true), [{ values: random(P * C, 39), shape: [P, C] }]);
  });
});
