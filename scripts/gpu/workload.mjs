// A GRU4Rec-shaped workload in plain TensorFlow.js ops, async-safe on every backend (reads only with
// `await data()`): shared by the WebGPU correctness tests (test/src/backend/webgpu.test.ts) and the GPU
// benchmark (bench/gpu.mjs). One GRU layer over item embeddings, full-softmax output over the catalogue,
// session-parallel training with one-step BPTT (GRU4Rec's scheme) and hand-written gradients (tfjs-core's
// Node bundle registers no op gradients), plain SGD. `tf` is passed in so the caller decides the instance.

/** Deterministic uniform(-scale, scale) Float32Array (mulberry32). */
export function seededArray(length, seed, scale = 0.1) {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Deterministic ints in [0, n). */
export function seededInts(length, n, seed) {
  return Int32Array.from(seededArray(length, seed, 1), (v) => Math.min(n - 1, Math.floor(((v + 1) / 2) * n)));
}

/** Initial weights as Float32Arrays: embedding E[n,d], GRU Wx[d,3h] bx[3h] Wh[h,3h], output WoT[h,n] bo[n]. */
export function initialWeights({ items, embedding, hidden, seed = 1 }) {
  const n = items, d = embedding, h = hidden;
  return {
    E: seededArray(n * d, seed + 1), Wx: seededArray(d * 3 * h, seed + 2, 0.2), bx: seededArray(3 * h, seed + 3, 0.05),
    Wh: seededArray(h * 3 * h, seed + 4, 0.2), WoT: seededArray(h * n, seed + 5, 0.2), bo: seededArray(n, seed + 6, 0.05),
    shape: { n, d, h },
  };
}

/** Uploads weights to the active backend as variables-to-be (plain tensors; caller disposes). */
export function upload(tf, w) {
  const { n, d, h } = w.shape;
  return {
    E: tf.tensor2d(w.E, [n, d]), Wx: tf.tensor2d(w.Wx, [d, 3 * h]), bx: tf.tensor1d(w.bx),
    Wh: tf.tensor2d(w.Wh, [h, 3 * h]), WoT: tf.tensor2d(w.WoT, [h, n]), bo: tf.tensor1d(w.bo), shape: w.shape,
  };
}

export function disposeWeights(tf, t) {
  tf.dispose([t.E, t.Wx, t.bx, t.Wh, t.WoT, t.bo]);
}

/** GRU cell forward (gates r, z, n as in GRU4Rec / cuDNN with the reset gate applied after Wh). Returns parts for backprop. */
export function gruForward(tf, t, items, hPrev) {
  const x = tf.gather(t.E, items);
  const a = tf.add(tf.matMul(x, t.Wx), t.bx);
  const c = tf.matMul(hPrev, t.Wh);
  const [ar, az, an] = tf.split(a, 3, 1);
  const [cr, cz, cn] = tf.split(c, 3, 1);
  const r = tf.sigmoid(tf.add(ar, cr));
  const z = tf.sigmoid(tf.add(az, cz));
  const nn = tf.tanh(tf.add(an, tf.mul(r, cn)));
  const hNew = tf.add(tf.mul(tf.sub(1, z), nn), tf.mul(z, hPrev));
  return { x, r, z, nn, cn, hNew };
}

/** Scores of every item for each row of `hidden`: `hidden × WoT + bo` → [B, n]. */
export function scoreAll(tf, t, hidden) {
  return tf.add(tf.matMul(hidden, t.WoT), t.bo);
}

/** Inference: one GRU step for B sessions, full scores, top-k. Tensors out (caller reads and disposes). */
export function inferStep(tf, t, items, hPrev, k) {
  return tf.tidy(() => {
    const { hNew } = gruForward(tf, t, items, hPrev);
    const scores = scoreAll(tf, t, hNew);
    const { values, indices } = tf.topk(scores, k);
    return { hNew, scores, values, indices };
  });
}

/**
 * One training step (cross-entropy, one-step BPTT, SGD with learning rate `lr`): returns the new weights (the
 * old tensors are disposed), the next hidden state and the loss as a scalar tensor. Without `negatives` the
 * softmax runs over the whole catalogue; with `negatives` (item ids shared by the batch, GRU4Rec's sampled
 * output) it runs over the batch's targets plus those items, row i's label being column i.
 */
export function trainStep(tf, t, items, targets, hPrev, lr, negatives) {
  const out = tf.tidy(() => {
    const { n, h } = t.shape;
    const B = items.shape[0];
    const { x, r, z, nn, cn, hNew } = gruForward(tf, t, items, hPrev);
    // Output columns: every item, or the targets followed by the shared negatives.
    const cols = negatives ? tf.concat([targets, negatives]) : undefined;
    const WoS = cols ? tf.gather(t.WoT, cols, 1) : t.WoT;
    const logits = tf.add(tf.matMul(hNew, WoS), cols ? tf.gather(t.bo, cols) : t.bo);
    const logp = tf.logSoftmax(logits);
    const onehot = cols ? tf.oneHot(tf.range(0, B, 1, 'int32'), cols.shape[0]) : tf.oneHot(targets, n);
    const loss = tf.neg(tf.div(tf.sum(tf.mul(onehot, logp)), B));
    const dLogits = tf.div(tf.sub(tf.exp(logp), onehot), B);
    // Explicit transposes, never matMul's transpose flags: on the WebGPU backend (tfjs 4.22, seen on lavapipe)
    // matMul(a, b, false, true) is wrong for split-K shapes (small output, K in the thousands).
    const dWoS = tf.matMul(tf.transpose(hNew), dLogits);
    const dboS = tf.sum(dLogits, 0);
    // Sampled: scatter the column gradients back (duplicates add up); dense updates keep the SGD step simple.
    const dWoT = cols ? tf.transpose(tf.scatterND(tf.expandDims(cols, 1), tf.transpose(dWoS), [n, h])) : dWoS;
    const dbo = cols ? tf.scatterND(tf.expandDims(cols, 1), dboS, [n]) : dboS;
    const dh = tf.matMul(dLogits, tf.transpose(WoS));
    const dn = tf.mul(dh, tf.sub(1, z));
    const dz = tf.mul(dh, tf.sub(hPrev, nn));
    const dnPre = tf.mul(dn, tf.sub(1, tf.square(nn)));
    const drPre = tf.mul(tf.mul(dnPre, cn), tf.mul(r, tf.sub(1, r)));
    const dzPre = tf.mul(dz, tf.mul(z, tf.sub(1, z)));
    const da = tf.concat([drPre, dzPre, dnPre], 1);
    const dc = tf.concat([drPre, dzPre, tf.mul(dnPre, r)], 1);
    const dWx = tf.matMul(tf.transpose(x), da);
    const dbx = tf.sum(da, 0);
    const dWh = tf.matMul(tf.transpose(hPrev), dc);
    const dx = tf.matMul(da, tf.transpose(t.Wx));
    // Rows of repeated items add up (scatterND sums duplicates); unsortedSegmentSum has no wasm kernel.
    const dE = tf.scatterND(tf.expandDims(items, 1), dx, [n, t.shape.d]);
    const step = (w, g) => tf.sub(w, tf.mul(g, lr));
    return {
      E: step(t.E, dE), Wx: step(t.Wx, dWx), bx: step(t.bx, dbx), Wh: step(t.Wh, dWh), WoT: step(t.WoT, dWoT), bo: step(t.bo, dbo),
      hNew, loss,
    };
  });
  disposeWeights(tf, t);
  const { hNew, loss, ...w } = out;
  return { weights: { ...w, shape: t.shape }, hNew, loss };
}

/** Reads every weight back (async; works on WebGPU in Node). */
export async function readWeights(t) {
  const names = ['E', 'Wx', 'bx', 'Wh', 'WoT', 'bo'];
  const vals = await Promise.all(names.map((k) => t[k].data()));
  return Object.fromEntries(names.map((k, i) => [k, vals[i]]));
}

/** Largest absolute element-wise difference. */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
