// GPU benchmark: a GRU4Rec-shaped training step (CE over the full catalogue and over targets + sampled
// negatives, one-step BPTT, SGD) and batched inference
// (GRU step + full catalogue scores + top-k) per backend, in plain TF.js ops read back with `await data()`
// (scripts/gpu/workload.mjs), so it runs on webgpu as well as on wasm/cpu. Also tries the project's own
// GRU4Rec trainer and scorer on each backend (sync reads where the backend has them, else the async entry points).
// Writes JSON (--out) and prints a Markdown table. Run `npm run build` first (or use the GPU bundle).
// usage: node bench/gpu.mjs [--backends webgpu,wasm] [--items 43097] [--hidden 100] [--batch 256]
//          [--infer-batch 256] [--samples 2048] [--seconds 20] [--steps 500] [--quick] [--no-project] [--out bench/results/gpu.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, platform, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { selectBackend } from '../dist/src/backend/select-backend.js';
import { tf } from '../dist/src/backend/tf.js';
import * as W from '../scripts/gpu/workload.mjs';

const arg = (name, def) => { const i = process.argv.indexOf(name); return i < 0 ? def : process.argv[i + 1]; };
const quick = process.argv.includes('--quick');
const backends = arg('--backends', 'webgpu,wasm').split(',');
const items = Number(arg('--items', quick ? '2000' : '43097'));
const hidden = Number(arg('--hidden', quick ? '32' : '100'));
const batch = Number(arg('--batch', quick ? '32' : '256'));
const inferBatch = Number(arg('--infer-batch', quick ? '32' : '256'));
const seconds = Number(arg('--seconds', quick ? '2' : '20'));
const maxSteps = Number(arg('--steps', quick ? '10' : '500'));
const out = arg('--out', 'bench/results/gpu.json');
const k = 20;
const samples = Number(arg('--samples', quick ? '256' : '2048'));
const project = !process.argv.includes('--no-project');

/** Runs `step` (async) after 2 warm-ups until maxSteps or the time budget; returns steps and seconds. */
async function timed(step) {
  for (let i = 0; i < 2; i++) await step(i);
  const t0 = performance.now();
  let n = 0;
  while (n < maxSteps && performance.now() - t0 < seconds * 1000) await step(n++ + 2);
  return { steps: n, seconds: (performance.now() - t0) / 1000 };
}

async function trainBench(nSamples) {
  let t = W.upload(tf, W.initialWeights({ items, embedding: hidden, hidden }));
  let h = tf.zeros([batch, hidden]);
  const losses = [];
  const run = await timed(async (s) => {
    const x = tf.tensor1d(W.seededInts(batch, items, 1000 + s), 'int32');
    const y = tf.tensor1d(W.seededInts(batch, items, 5000 + s), 'int32');
    const neg = nSamples > 0 ? tf.tensor1d(W.seededInts(nSamples, items, 7000 + s), 'int32') : undefined;
    const r = W.trainStep(tf, t, x, y, h, 0.05, neg);
    losses.push((await r.loss.data())[0]); // one read per step: the step has finished on the device
    tf.dispose([x, y, h, r.loss, ...(neg ? [neg] : [])]);
    t = r.weights;
    h = r.hNew;
  });
  W.disposeWeights(tf, t);
  h.dispose();
  return { samples: nSamples, ...run, msPerStep: (run.seconds * 1000) / run.steps, eventsPerSecond: (run.steps * batch) / run.seconds, firstLoss: losses[0], lastLoss: losses.at(-1) };
}

async function inferBench(B) {
  const t = W.upload(tf, W.initialWeights({ items, embedding: hidden, hidden }));
  let h = tf.zeros([B, hidden]);
  let checksum = 0;
  const run = await timed(async (s) => {
    const x = tf.tensor1d(W.seededInts(B, items, 9000 + s), 'int32');
    const r = W.inferStep(tf, t, x, h, k);
    const top = await r.indices.data(); // what a recommender needs back: the top-k ids
    checksum += top[0];
    tf.dispose([x, h, r.scores, r.values, r.indices]);
    h = r.hNew;
  });
  W.disposeWeights(tf, t);
  h.dispose();
  return { batch: B, ...run, msPerStep: (run.seconds * 1000) / run.steps, eventsPerSecond: (run.steps * B) / run.seconds, checksum };
}

/**
 * The project's GRU4Rec trainer step and scorer on this backend, and how fast: sync reads where the backend
 * has them (cpu, wasm, tensorflow), the async entry points (`stepAsync`, awaited observe/score) on webgpu.
 */
function projectGru4Rec() {
  return projectBench(async ({ Rng, PopularitySampler, newSessionState, syncReads }) => {
    const { resolveGru4RecConfig } = await import('../dist/models/gru4rec/config.js');
    const { Gru4RecParams } = await import('../dist/models/gru4rec/params.js');
    const { Gru4RecStepper } = await import('../dist/models/gru4rec/train-step.js');
    const { Gru4RecScorer } = await import('../dist/models/gru4rec/scorer.js');
    const { SessionParallelBatcher } = await import('../dist/models/training/session-batcher.js');
    const config = resolveGru4RecConfig({ layers: [hidden], batchSize: Math.min(batch, 128), nSample: 2048 });
    const rng = new Rng(1);
    const S = 2000, seq = [], offsets = new Int32Array(S + 1);
    for (let s = 0; s < S; s++) { const len = 2 + rng.int(6); for (let i = 0; i < len; i++) seq.push(Math.floor(Math.pow(rng.next(), 3) * items)); offsets[s + 1] = seq.length; }
    const support = new Float64Array(items);
    for (const i of seq) support[i]++;
    const params = new Gru4RecParams(config, items);
    params.initialize(new Rng(2));
    const stepper = new Gru4RecStepper(params, config, new PopularitySampler(support, config.sampleAlpha), new Rng(3));
    const batcher = new SessionParallelBatcher({ offsets, items: Int32Array.from(seq) }, config.batchSize);
    let ev = 0;
    const train = await timed(async () => { if (batcher.step()) { if (syncReads) stepper.step(batcher.batch); else await stepper.stepAsync(batcher.batch); ev += batcher.batch.size; } });
    const scorer = new Gru4RecScorer(params);
    const sessions = Array.from({ length: inferBatch }, (_, i) => { const s = newSessionState(`b${i}`, 0, 0); s.items.push(i % items); return s; });
    const infer = await timed(async (n) => { for (const s of sessions) s.items.push((n * 31 + s.items.length) % items); await scorer.observe(sessions); await scorer.score(sessions); });
    scorer.dispose();
    return { trainEventsPerSecond: ev / train.seconds, inferEventsPerSecond: (infer.steps * inferBatch) / infer.seconds };
  });
}

/**
 * The project's transformer (config defaults: d 200, 1 block, 8192 sampled negatives, item-attention) on
 * this backend: training steps over random windows of 2–12 items, and cached streaming inference.
 */
function projectTransformer() {
  return projectBench(async ({ Rng, PopularitySampler, newSessionState, syncReads }) => {
    const { TransformerParams } = await import('../dist/models/transformer/params.js');
    const { TransformerStepper } = await import('../dist/models/transformer/train-step.js');
    const { TransformerScorer } = await import('../dist/models/transformer/scorer.js');
    const params = TransformerParams.fromConfig({ batchSize: Math.min(batch, 128) }, items);
    const c = params.config;
    const rng = new Rng(5);
    const support = new Float64Array(items).fill(1);
    const stepper = new TransformerStepper(params, c, new PopularitySampler(support, c.sampleAlpha), new Rng(6));
    const makeBatch = () => Array.from({ length: c.batchSize }, () => ({ items: Int32Array.from({ length: 2 + rng.int(11) }, () => Math.floor(Math.pow(rng.next(), 3) * items)) }));
    let ev = 0;
    const train = await timed(async () => { const b = makeBatch(); if (syncReads) stepper.step(b); else await stepper.stepAsync(b); ev += b.reduce((n, w) => n + w.items.length - 1, 0); });
    const scorer = new TransformerScorer(params);
    const sessions = Array.from({ length: inferBatch }, (_, i) => { const s = newSessionState(`t${i}`, 0, 0); s.items.push(i % items); return s; });
    // Sessions restart every 15 events so the cache path (one new position) dominates, as in a live stream.
    const infer = await timed(async (n) => { for (const s of sessions) { if (s.items.length >= 15) { s.items.length = 0; s.modelState = undefined; } s.items.push((n * 31 + s.items.length) % items); } await scorer.observe(sessions); await scorer.score(sessions); });
    scorer.dispose();
    return { trainEventsPerSecond: ev / train.seconds, inferEventsPerSecond: (infer.steps * inferBatch) / infer.seconds };
  });
}

/**
 * Runs one project benchmark with the modules both use: its train and inference rates and whether it read
 * synchronously, or why it failed on this backend.
 */
async function projectBench(run) {
  try {
    const { Rng } = await import('../dist/models/training/rng.js');
    const { PopularitySampler } = await import('../dist/models/training/sampler.js');
    const { newSessionState } = await import('../dist/src/sessions/session-state.js');
    const { backendReadsSync } = await import('../dist/models/training/tensor-reads.js');
    const syncReads = backendReadsSync();
    return { ok: true, reads: syncReads ? 'sync' : 'async', ...(await run({ Rng, PopularitySampler, newSessionState, syncReads })) };
  } catch (err) {
    return { ok: false, error: String(err?.message ?? err).split('\n')[0] };
  }
}

const results = {};
const started = new Date().toISOString();
for (const backend of backends) {
  const sel = await selectBackend({ backend, strict: true, force: true });
  const r = { backend: sel.backend, adapter: sel.adapter ?? null };
  console.error(`[gpu bench] ${backend}${sel.adapter ? ` on ${sel.adapter}` : ''}: training…`);
  r.train = await trainBench(0);
  console.error(`[gpu bench] ${backend}: sampled training (${samples} negatives)…`);
  r.trainSampled = await trainBench(samples);
  console.error(`[gpu bench] ${backend}: inference…`);
  r.inferBatch = await inferBench(inferBatch);
  r.inferSingle = await inferBench(1);
  if (project) { console.error(`[gpu bench] ${backend}: project GRU4Rec…`); r.projectGru4Rec = await projectGru4Rec(); }
  if (project) { console.error(`[gpu bench] ${backend}: project transformer…`); r.projectTransformer = await projectTransformer(); }
  r.numTensorsAfter = tf.memory().numTensors;
  results[backend] = r;
}
const report = {
  started, finished: new Date().toISOString(),
  machine: { hostname: hostname(), platform: `${platform()} ${release()}`, cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  vulkan: { VK_DRIVER_FILES: process.env.VK_DRIVER_FILES ?? null },
  config: { items, hidden, embedding: hidden, trainBatch: batch, samples, inferBatch, k, seconds, maxSteps, quick },
  results,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2));
const f = (v, d = 0) => (v === undefined ? '–' : Number(v).toFixed(d));
console.log(`| backend | adapter | full-softmax train ms/step (B=${batch}) | events/s | sampled (${samples}) train ms/step | events/s | infer events/s (B=${inferBatch}) | infer ms, 1 session | project GRU4Rec | project transformer |`);
console.log('|---|---|---|---|---|---|---|---|---|---|');
const projectCell = (p) => (p ? (p.ok ? `train ${f(p.trainEventsPerSecond)} ev/s, infer ${f(p.inferEventsPerSecond)} ev/s` : `fails: ${p.error}`) : '–');
for (const r of Object.values(results)) {
  console.log(`| ${r.backend} | ${r.adapter ?? '–'} | ${f(r.train.msPerStep, 1)} | ${f(r.train.eventsPerSecond)} | ${f(r.trainSampled.msPerStep, 1)} | ${f(r.trainSampled.eventsPerSecond)} | ${f(r.inferBatch.eventsPerSecond)} | ${f(r.inferSingle.msPerStep, 2)} | ${projectCell(r.projectGru4Rec)} | ${projectCell(r.projectTransformer)} |`);
}
console.log(`results: ${out}`);
// Dawn may keep native handles alive; the results are written, so leave explicitly.
process.exit(0);
