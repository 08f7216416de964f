// GPU pre-flight for the bundle's run script: finds the WebGPU adapter, selects the project's webgpu backend,
// and checks it against cpu on a small GRU4Rec-shaped model (GRU step, scores, top-k, 3 full-softmax and 3 sampled training steps).
// Writes JSON to --out; exit 0 = usable, 3 = no adapter / software adapter (unless --allow-software),
// 4 = results disagree with cpu. Paths are relative to the app folder (the repo root or the bundle's app/).
// usage: node scripts/gpu/check.mjs [--allow-software] [--out check.json]
import { writeFileSync } from 'node:fs';
import { selectBackend } from '../../dist/src/backend/select-backend.js';
import { tf } from '../../dist/src/backend/tf.js';
import { describeAdapter, probeWebGpuAdapter } from '../../dist/src/backend/webgpu.js';
import * as W from './workload.mjs';

const arg = (name, def) => { const i = process.argv.indexOf(name); return i < 0 ? def : process.argv[i + 1]; };
const allowSoftware = process.argv.includes('--allow-software');
const out = arg('--out', 'check.json');
const report = { adapter: null, ok: false, checks: {} };
const finish = (code, why) => {
  report.exitCode = code;
  if (why) report.reason = why;
  writeFileSync(out, JSON.stringify(report, null, 2));
  console.log(`[gpu check] ${why ?? 'webgpu agrees with cpu'}`);
  process.exit(code);
};

const adapter = await probeWebGpuAdapter().catch((err) => finish(3, `Dawn could not start: ${err.message}`));
if (!adapter) finish(3, `no WebGPU adapter (VK_DRIVER_FILES=${process.env.VK_DRIVER_FILES ?? 'unset'})`);
report.adapter = adapter;
console.log(`[gpu check] adapter: ${describeAdapter(adapter)}`);
if (adapter.isFallbackAdapter && !allowSoftware) finish(3, `only a software adapter (${describeAdapter(adapter)}): the GPU's Vulkan driver was not found`);

const sizes = { items: 3000, embedding: 32, hidden: 48 };
const B = 64;
async function run(backend) {
  const sel = await selectBackend({ backend, strict: true, force: true });
  let t = W.upload(tf, W.initialWeights(sizes));
  let h = tf.tensor2d(W.seededArray(B * sizes.hidden, 12, 0.5), [B, sizes.hidden]);
  const items = tf.tensor1d(W.seededInts(B, sizes.items, 11), 'int32');
  const inf = W.inferStep(tf, t, items, h, 20);
  const res = { adapter: sel.adapter, hidden: await inf.hNew.data(), scores: await inf.scores.data(), indices: await inf.indices.data(), losses: [] };
  tf.dispose([items, inf.hNew, inf.scores, inf.values, inf.indices]);
  // Three full-softmax steps, then three with 256 sampled negatives.
  for (let s = 0; s < 6; s++) {
    const x = tf.tensor1d(W.seededInts(B, sizes.items, 100 + s), 'int32');
    const y = tf.tensor1d(W.seededInts(B, sizes.items, 200 + s), 'int32');
    const neg = s >= 3 ? tf.tensor1d(W.seededInts(256, sizes.items, 300 + s), 'int32') : undefined;
    const r = W.trainStep(tf, t, x, y, h, 0.5, neg);
    res.losses.push((await r.loss.data())[0]);
    tf.dispose([x, y, h, r.loss, ...(neg ? [neg] : [])]);
    t = r.weights;
    h = r.hNew;
  }
  res.weights = await W.readWeights(t);
  W.disposeWeights(tf, t);
  h.dispose();
  return res;
}

/** Diagnostic only: matMul's transposeB flag on a split-K shape (wrong on lavapipe with tfjs 4.22). */
async function transposeFlag(backend) {
  await selectBackend({ backend, strict: true, force: true });
  const a = tf.tensor2d(W.seededArray(8 * 3000, 1), [8, 3000]);
  const bT = tf.tensor2d(W.seededArray(48 * 3000, 2), [48, 3000]);
  const r = tf.matMul(a, bT, false, true);
  const v = await r.data();
  tf.dispose([a, bT, r]);
  return v;
}
report.diagnostics = { matMulTransposeBSplitKMaxAbsDiff: W.maxAbsDiff(await transposeFlag('webgpu'), await transposeFlag('cpu')) };
const ref = await run('cpu');
const gpu = await run('webgpu');
report.backendAdapter = gpu.adapter;
// Tolerances as in test/src/backend/webgpu.test.ts (float32, different reduction order).
const c = report.checks;
c.hidden = { maxAbsDiff: W.maxAbsDiff(gpu.hidden, ref.hidden), tol: 2e-5 };
c.scores = { maxAbsDiff: W.maxAbsDiff(gpu.scores, ref.scores), tol: 1e-4, maxAbs: ref.scores.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
c.topkIndicesIdentical = { value: gpu.indices.every((v, i) => v === ref.indices[i]) };
c.losses = { maxAbsDiff: W.maxAbsDiff(gpu.losses, ref.losses), tol: 1e-5, cpu: ref.losses, webgpu: gpu.losses };
for (const k of Object.keys(ref.weights)) c[`weights.${k}`] = { maxAbsDiff: W.maxAbsDiff(gpu.weights[k], ref.weights[k]), tol: 2e-5 };
const bad = Object.entries(c).filter(([, v]) => (v.tol !== undefined ? !(v.maxAbsDiff <= v.tol) : false));
report.ok = bad.length === 0;
if (!c.topkIndicesIdentical.value) report.note = 'top-k indices differ (near-ties?): compare scores';
finish(report.ok ? 0 : 4, report.ok ? undefined : `webgpu disagrees with cpu: ${bad.map(([k, v]) => `${k} ${v.maxAbsDiff} > ${v.tol}`).join(', ')}`);
