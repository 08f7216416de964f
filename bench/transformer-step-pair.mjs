// Paired training speed of two transformer steppers (defaults) on the same Diginetica batches in one process,
// alternating in blocks of 16 steps so that machine load hits both alike: two builds' TransformerStepper, or
// (--device) the host TransformerStepper against the device-resident TransformerDeviceStepper of one build.
// A device block ends with its loss read (what trainBatches does every 16 steps), so queued work is counted.
// usage: node bench/transformer-step-pair.mjs A_DIST B_DIST [batches] [--device] [--backend wasm|webgpu|cpu]
//        [--config JSON]   (dists relative to bench/, e.g. ../dist; with --device B is the device stepper, A the
//        host one; --config overrides the defaults, e.g. '{"hiddenSize":64,"nSample":1024,"batchSize":32}')
import { readFileSync } from 'node:fs';
const args = process.argv.slice(2);
const flag = (name, dflt) => { const i = args.indexOf(name); if (i < 0) return dflt; const v = args[i + 1]; args.splice(i, 2); return v; };
const backend = flag('--backend', 'wasm');
const overrides = JSON.parse(flag('--config', '{}'));
const device = args.includes('--device');
const [aDist, bDist, batchArg] = args.filter((a) => a !== '--device');
const nBatches = Number(batchArg ?? 40);
const BLOCK = 16;
const load = async (dist) => ({
  sel: await import(`${dist}/src/backend/select-backend.js`),
  cfg: await import(`${dist}/models/transformer/config.js`),
  par: await import(`${dist}/models/transformer/params.js`),
  step: await import(`${dist}/models/transformer/train-step.js`),
  train: await import(`${dist}/models/transformer/train.js`),
  rng: await import(`${dist}/models/training/rng.js`),
  smp: await import(`${dist}/models/training/sampler.js`),
  ...(device ? { dev: await import(`${dist}/models/transformer/device-train-step.js`) } : {}),
});
const A = await load(aDist), B = await load(bDist);
await B.sel.selectBackend({ backend, strict: true, force: true });
const sessions = readFileSync('../shared/data/diginetica/train_sessions.txt', 'utf8').split('\n').filter((l) => l.trim()).map((l) => l.trim().split(/\s+/));
const ids = new Map(); const flat = []; const offsets = [0];
for (const s of sessions) { for (const id of s) { if (!ids.has(id)) ids.set(id, ids.size); flat.push(ids.get(id)); } offsets.push(flat.length); }
const data = { items: Int32Array.from(flat), offsets: Int32Array.from(offsets) };
const N = ids.size;
const support = new Float64Array(N); for (const i of flat) support[i]++;
const syncReads = ['cpu', 'wasm', 'tensorflow'].includes(backend);
/** A stepper as `run(batch)` (a step) and `flush()` (the end of a block: the device stepper's loss read). */
const make = (M, onDevice) => {
  const c = M.cfg.resolveTransformerConfig(overrides);
  const p = new M.par.TransformerParams(c, N); p.initialize(new M.rng.Rng(1));
  const args = [p, c, new M.smp.PopularitySampler(support, c.sampleAlpha), new M.rng.Rng(2)];
  if (onDevice) { const s = new M.dev.TransformerDeviceStepper(...args); return { run: async (b) => s.step(b), flush: () => s.readLoss() }; }
  const s = new M.step.TransformerStepper(...args);
  return { run: async (b) => (syncReads ? s.step(b) : await s.stepAsync(b)), flush: async () => {} };
};
const sa = make(A, false), sb = make(B, device);
const windows = B.train.buildWindows(data, 20);
const batches = B.train.bucketBatches(windows, B.cfg.resolveTransformerConfig(overrides).batchSize, new B.rng.Rng(3)).slice(0, nBatches + 1);
for (const s of [sa, sb]) { await s.run(batches[0]); await s.flush(); }
let ta = 0, tb = 0, ev = 0;
for (let i = 1; i <= nBatches; i += BLOCK) {
  const block = batches.slice(i, Math.min(i + BLOCK, nBatches + 1));
  ev += block.reduce((n, b) => n + b.reduce((k, w) => k + w.items.length - 1, 0), 0);
  const order = ((i - 1) / BLOCK) % 2 === 0 ? [[sa, 'a'], [sb, 'b']] : [[sb, 'b'], [sa, 'a']];
  for (const [s, k] of order) {
    const t0 = performance.now();
    for (const b of block) await s.run(b);
    await s.flush();
    const dt = performance.now() - t0;
    if (k === 'a') ta += dt; else tb += dt;
  }
}
const names = device ? [`${aDist} host stepper`, `${bDist} device stepper`] : [aDist, bDist];
console.log(`${nBatches} Diginetica batches (${ev} events, config ${JSON.stringify(overrides)}) on ${backend}, alternating blocks of ${BLOCK}; load ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
console.log(`${names[0]}: ${(ev / ta * 1000).toFixed(0)} events/s; ${names[1]}: ${(ev / tb * 1000).toFixed(0)} events/s; b/a ${(ta / tb).toFixed(2)}`);
