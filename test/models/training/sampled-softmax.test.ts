import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { referenceCrossEntropy } from './reference-cross-entropy.js';
import { sampledSoftmaxLoss } from '../../../models/nn/sampled-softmax.js';
import { mergeColumns, withColumnLookup } from '../../../models/training/sampled-softmax.js';
import { Rng } from '../../../models/training/rng.js';

describe('merged sampled softmax (models/nn, autodiff) against the unmerged JavaScript reference', () => {
  beforeAll(async () => { await selectBackend({ backend: 'wasm' }); });

  it('equals the cross-entropy over the unmerged columns: loss, dH, per-item dO, bias and sparse-logit gradients', () => {
    const rng = new Rng(8);
    const N = 9, d = 4;
    const targets = [3, 5, 3, 1, 7, 5];
    const P = targets.length;
    const columns = Int32Array.from([...targets, 3, 2, 2, 5, 0, 6, 3, 8]);
    const table = Float32Array.from({ length: N * d }, () => rng.next() * 2 - 1);
    const logQ = Float32Array.from({ length: N }, () => -1 - rng.next() * 3);
    const bias = Float32Array.from({ length: N }, () => rng.next() - 0.5);
    const h = Float32Array.from({ length: P * d }, () => (rng.next() * 2 - 1) * 3);
    const rowsOf = (items: ArrayLike<number>) => {
      const o = new Float32Array(items.length * d);
      Array.from(items).forEach((it, j) => o.set(table.subarray(it * d, (it + 1) * d), j * d));
      return o;
    };
    // Sparse logit additions (row, item, value); row 0's is on its own target; row 4 has two on item 5
    // (the repeat bias and the transition prior can land on the same logit: they add up).
    const extras = [[0, 3, 0.7], [1, 2, -0.4], [4, 5, 1.1], [2, 8, 0.3], [4, 5, -0.2]] as const;
    // Reference: every sampled column, duplicates included (an addition lands on every copy of its item).
    const Mu = columns.length;
    const ou = rowsOf(columns);
    const scores = new Float32Array(P * Mu);
    for (let i = 0; i < P; i++) for (let j = 0; j < Mu; j++) for (let k = 0; k < d; k++) scores[i * Mu + j] = scores[i * Mu + j]! + h[i * d + k]! * ou[j * d + k]!;
    for (const [i, it, v] of extras) columns.forEach((c, j) => { if (c === it) scores[i * Mu + j] = scores[i * Mu + j]! + v; });
    const grad = new Float32Array(P * Mu);
    const colSums = new Float64Array(Mu);
    const refLoss = referenceCrossEntropy({ scores, rows: P, cols: Mu, colItems: columns }, grad, Float32Array.from(columns, (it) => logQ[it]! - bias[it]!), colSums);
    const refDH = new Float32Array(P * d);
    const refDO = new Float64Array(N * d);
    const refBias = new Float64Array(N);
    for (let i = 0; i < P; i++) {
      for (let j = 0; j < Mu; j++) {
        const g = grad[i * Mu + j]!, it = columns[j]!;
        for (let k = 0; k < d; k++) { refDH[i * d + k] = refDH[i * d + k]! + g * ou[j * d + k]!; refDO[it * d + k] = refDO[it * d + k]! + g * h[i * d + k]!; }
      }
    }
    columns.forEach((it, j) => { refBias[it] = refBias[it]! + colSums[j]!; });
    const refExtra = extras.map(([i, it]) => columns.reduce((g, c, j) => (c === it ? g + grad[i * Mu + j]! : g), 0));

    const merged = mergeColumns(columns, P, N);
    expect(merged.items.length).toBe(new Set(columns).size);
    const M = merged.items.length;
    const o = rowsOf(merged.items);
    const colOf = (it: number) => Array.from(merged.items).indexOf(it);
    const before = tf.memory().numTensors;
    let got: { loss: number; dH: Float32Array; dO: Float32Array; columnGrad: Float32Array; extraGrad: Float32Array } | undefined;
    tf.tidy(() => {
      const constantShift = tf.tensor1d(Float32Array.from(merged.items, (it, j) => logQ[it]! - merged.logCount[j]!));
      const indices = tf.tensor2d(Int32Array.from(extras.flatMap((e) => [e[0], colOf(e[1])])), [extras.length, 2], 'int32');
      const meanLoss = (hh: tf.Tensor, oo: tf.Tensor, b: tf.Tensor, values: tf.Tensor) => tf.div(sampledSoftmaxLoss(hh as tf.Tensor2D, oo as tf.Tensor2D, {
        shift: tf.sub(constantShift, b) as tf.Tensor1D,
        targetColumn: merged.targetColumn,
        targetLogCount: Float32Array.from(merged.targetColumn, (c) => merged.logCount[c]!),
        extra: { indices, values: values as tf.Tensor1D },
      }), P) as tf.Scalar;
      const { value, grads } = tf.valueAndGrads(meanLoss)([tf.tensor2d(h, [P, d]), tf.tensor2d(o, [M, d]), tf.tensor1d(Float32Array.from(merged.items, (it) => bias[it]!)), tf.tensor1d(Float32Array.from(extras, (e) => e[2]))]);
      got = { loss: value.dataSync()[0]! * P, dH: grads[0]!.dataSync() as Float32Array, dO: grads[1]!.dataSync() as Float32Array, columnGrad: grads[2]!.dataSync() as Float32Array, extraGrad: grads[3]!.dataSync() as Float32Array };
    });
    expect(tf.memory().numTensors).toBe(before);
    refExtra.forEach((g, e) => expect(got!.extraGrad[e]).toBeCloseTo(g, 5));
    expect(got!.loss).toBeCloseTo(refLoss, 4);
    for (let i = 0; i < P * d; i++) expect(got!.dH[i]).toBeCloseTo(refDH[i]!, 5);
    merged.items.forEach((it, j) => {
      for (let k = 0; k < d; k++) expect(got!.dO[j * d + k]).toBeCloseTo(refDO[it * d + k]!, 5);
      expect(got!.columnGrad[j]).toBeCloseTo(refBias[it]!, 5);
    });
  });

  it('a sampled copy of a row\'s target is not one of its negatives', () => {
    // Items 0 and 1 with scores from one-dimensional vectors; row 0's target (item 0) is also drawn as a sample.
    const h = Float32Array.from([2]);
    const merged = mergeColumns(Int32Array.from([0, 1, 0, 0]), 1, 2);
    expect(Array.from(merged.items)).toEqual([0, 1]);
    const o = Float32Array.from([1, -1]);
    const loss = tf.tidy(() => sampledSoftmaxLoss(tf.tensor2d(h, [1, 1]), tf.tensor2d(o, [2, 1]), {
      shift: tf.tensor1d(Float32Array.from(merged.logCount, (lc) => -lc)),
      targetColumn: merged.targetColumn,
      targetLogCount: Float32Array.from(merged.targetColumn, (c) => merged.logCount[c]!),
    }).dataSync()[0]!);
    // −log(e² / (e² + e⁻²)): the target's two sampled copies do not enter the denominator.
    expect(loss).toBeCloseTo(Math.log(1 + Math.exp(-4)), 5);
  });

  it('looks items up by merged column and leaves the shared table clean for the next merge', () => {
    const merged = mergeColumns(Int32Array.from([5, 2, 5, 7, 2]), 2, 10);
    expect(Array.from(merged.items)).toEqual([5, 2, 7]);
    const seen = withColumnLookup(merged, 10, (columnOf) => [5, 2, 7, 3].map((it) => columnOf[it]));
    expect(seen).toEqual([0, 1, 2, -1]);
    // The table is reset: a second merge numbers its own items from 0 again.
    expect(Array.from(mergeColumns(Int32Array.from([7, 3]), 1, 10).targetColumn)).toEqual([0]);
    expect(withColumnLookup(merged, 10, (columnOf) => columnOf[3])).toBe(-1);
  });
});
