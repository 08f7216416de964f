// Paired training speed of two builds: their TransformerStepper (defaults, wasm, one thread) alternate on the same
// Diginetica batches in one process, so that machine load hits both alike.
// usage: node bench/transformer-step-pair.mjs OLD_DIST NEW_DIST [batches]   (dists relative to bench/, e.g. ../dist)
import { readFileSync } from 'node:fs';
const [oldDist, newDist] = [process.argv[2], process.argv[3]];
const nBatches = Number(process.argv[4] ?? 40);
const load = async (dist) => ({
  sel: await import(`${dist}/src/backend/select-backend.js`),
  cfg: await import(`${dist}/models/transformer/config.js`),
  par: await import(`${dist}/models/transformer/params.js`),
  step: await import(`${dist}/models/transformer/train-step.js`),
  train: await import(`${dist}/models/transformer/train.js`),
  rng: await import(`${dist}/models/training/rng.js`),
  smp: await import(`${dist}/models/training/sampler.js`),
});
const A = await load(oldDist), B = await load(newDist);
await B.sel.selectBackend({ backend: 'wasm' });
const sessions = readFileSync('../shared/data/diginetica/train_sessions.txt', 'utf8').split('\n').filter((l) => l.trim()).map((l) => l.trim().split(/\s+/));
const ids = new Map(); const flat = []; const offsets = [0];
for (const s of sessions) { for (const id of s) { if (!ids.has(id)) ids.set(id, ids.size); flat.push(ids.get(id)); } offsets.push(flat.length); }
const data = { items: Int32Array.from(flat), offsets: Int32Array.from(offsets) };
const N = ids.size;
const support = new Float64Array(N); for (const i of flat) support[i]++;
const make = (M) => {
  const c = M.cfg.resolveTransformerConfig({});
  const p = new M.par.TransformerParams(c, N); p.initialize(new M.rng.Rng(1));
  return new M.step.TransformerStepper(p, c, new M.smp.PopularitySampler(support, c.sampleAlpha), new M.rng.Rng(2));
};
const sa = make(A), sb = make(B);
const windows = B.train.buildWindows(data, 20);
const batches = B.train.bucketBatches(windows, 128, new B.rng.Rng(3)).slice(0, nBatches + 1);
sa.step(batches[0]); sb.step(batches[0]);
let ta = 0, tb = 0, ev = 0;
for (let i = 1; i <= nBatches; i++) {
  const b = batches[i];
  ev += b.reduce((k, w) => k + w.items.length - 1, 0);
  const first = i % 2 === 0 ? [sa, 'a'] : [sb, 'b'], second = i % 2 === 0 ? [sb, 'b'] : [sa, 'a'];
  for (const [s, k] of [first, second]) { const t0 = performance.now(); s.step(b); const dt = performance.now() - t0; if (k === 'a') ta += dt; else tb += dt; }
}
console.log(`${nBatches} Diginetica batches (${ev} events), alternating; load ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
console.log(`${oldDist}: ${(ev / ta * 1000).toFixed(0)} events/s; ${newDist}: ${(ev / tb * 1000).toFixed(0)} events/s; new/old ${(ta / tb).toFixed(2)}`);
