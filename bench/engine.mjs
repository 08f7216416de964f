// The model engines' figures in one command (issue #16): per model and backend, read-backs per training step,
// read-backs per serving batch (observe + recommend of a micro-batch), training events/s and serving events/s,
// on a synthetic log with Diginetica's catalogue size (43,097 items).
// usage: npm run build && node bench/engine.mjs [--json] [--backends wasm,cpu] [--models gru4rec,transformer]
//        [--steps 40] [--serve-batch 256] [--serve-rounds 8] [--scoring exact,ann] [--select auto|host|backend]
//        [--no-train] [--stepper auto|host|device] [--dist ../dist]
// Serving: a micro-batch is `observe` of one new event per session, then `recommend` (top-20); each model is served
// with each `--scoring` path (exact over all items, ANN candidates re-scored). The ANN
// graph is cached in tmp/ (built once per table). `--no-train` measures serving only.
// Timings are wall-clock on whatever else the machine is doing: give the load average with any figure you report.
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name, dflt) => { const i = args.indexOf(name); return i < 0 ? dflt : args[i + 1]; };
const dist = flag('--dist', '../dist');
const json = args.includes('--json');
const backends = flag('--backends', 'wasm').split(',');
const models = flag('--models', 'gru4rec,transformer').split(',');
const steps = Number(flag('--steps', '40'));
const serveBatch = Number(flag('--serve-batch', '256'));
const serveRounds = Number(flag('--serve-rounds', '8'));
const scorings = flag('--scoring', 'exact,ann').split(',');
const train = !args.includes('--no-train');
// Where exact serving picks the top k (ItemScoringTable option `select`): auto, host or backend.
const select = flag('--select', 'auto');
// Which training stepper: host parameters and one read per step (what cpu, wasm and tensorflow use), or the device
// stepper (parameters, optimiser state and row updates on the backend; what webgpu uses); auto = the trainers' choice.
const stepperKind = flag('--stepper', 'auto');
const N = 43097;

const { selectBackend } = await import(`${dist}/src/backend/select-backend.js`);
const { tf } = await import(`${dist}/src/backend/tf.js`);
const { newSessionState } = await import(`${dist}/src/sessions/session-state.js`);
const { topK } = await import(`${dist}/src/scoring/top-k.js`);
const { Rng } = await import(`${dist}/models/training/rng.js`);
const { PopularitySampler } = await import(`${dist}/models/training/sampler.js`);
const { SessionParallelBatcher } = await import(`${dist}/models/training/session-batcher.js`);

/** Counts tensor reads (outermost dataSync/data/array/arraySync/buffer/bufferSync calls) while `fn` runs. */
async function countReads(fn) {
  const proto = tf.Tensor.prototype;
  const names = ['dataSync', 'data', 'arraySync', 'array', 'bufferSync', 'buffer'];
  const saved = names.map((n) => proto[n]);
  let reads = 0, depth = 0;
  names.forEach((n, i) => {
    proto[n] = function (...a) {
      if (depth === 0) reads++;
      depth++;
      try { const r = saved[i].apply(this, a); if (r instanceof Promise) return r.finally(() => { depth--; }); depth--; return r; } catch (e) { depth--; throw e; }
    };
  });
  try { await fn(); } finally { names.forEach((n, i) => { proto[n] = saved[i]; }); }
  return reads;
}

// Synthetic sessions: popularity ∝ u³ over the catalogue, 2–7 events each.
const rng = new Rng(1);
const S = 20000;
const offsets = new Int32Array(S + 1);
const list = [];
for (let s = 0; s < S; s++) {
  const len = 2 + rng.int(6);
  for (let i = 0; i < len; i++) list.push(Math.floor(Math.pow(rng.next(), 3) * N));
  offsets[s + 1] = list.length;
}
const data = { offsets, items: Int32Array.from(list) };
const support = new Float64Array(N);
for (const i of list) support[i]++;

/** Reads per step are counted over 16 steps (device steppers read their loss once per 16); `flush` waits for queued work. */
async function timeTraining(step, batches, flush = async () => {}) {
  for (let i = 0; i < 3; i++) await step(batches());
  await flush();
  const readsPerStep = (await countReads(async () => { for (let i = 0; i < 16; i++) await step(batches()); await flush(); })) / 16;
  let ev = 0;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) ev += await step(batches());
  await flush();
  return { readsPerStep, eventsPerSecond: ev / ((performance.now() - t0) / 1000) };
}

/**
 * Serving micro-batches of `serveBatch` sessions, one new event each: observe + recommend (top-20, the session's
 * own items excluded as `excludeSeen` does). Reads are counted for one such batch and for an observe-only batch.
 */
async function timeServing(scorer) {
  const r = new Rng(7);
  const sessions = Array.from({ length: serveBatch }, (_, k) => { const s = newSessionState(`b${k}`, 0, 0); s.items.push(r.int(N)); return s; });
  const push = () => { for (const s of sessions) s.items.push(r.int(N)); };
  const cpuMs = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
  const split = { observe: 0, recommend: 0 };
  const serve = async () => {
    push();
    const c0 = cpuMs();
    await scorer.observe(sessions);
    const c1 = cpuMs();
    split.observe += c1 - c0;
    split.recommend -= c1;
    const filters = sessions.map((s) => ({ exclude: new Set(s.items) }));
    if (scorer.recommend) await scorer.recommend(sessions, 20, filters);
    else {
      // What the pipeline does without a recommend fast path: full rows, then a top-k per row.
      const rows = await scorer.score(sessions);
      filters.forEach((f, b) => topK(rows, 20, f, b * N, N));
    }
    split.recommend += cpuMs();
  };
  await serve(); await serve();
  const readsPerBatch = await countReads(serve);
  const readsPerObserve = await countReads(async () => { push(); await scorer.observe(sessions); });
  split.observe = 0; split.recommend = 0;
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let i = 0; i < serveRounds; i++) await serve();
  const cpu = process.cpuUsage(c0);
  const events = serveRounds * serveBatch;
  // Events per second of this process's CPU time as well: less sensitive to a busy machine than wall-clock.
  return { readsPerBatch, readsPerObserve, eventsPerSecond: events / ((performance.now() - t0) / 1000), eventsPerCpuSecond: events / ((cpu.user + cpu.system) / 1e6), cpuMsPerBatch: { observe: split.observe / serveRounds, recommend: split.recommend / serveRounds } };
}

/** Serving rows of one scorer per scoring path. */
async function servingRows(make) {
  const out = {};
  for (const scoring of scorings) {
    const scorer = make(scoring);
    out[scoring] = await timeServing(scorer);
    scorer.dispose();
  }
  return out;
}

async function gru4rec() {
  const { resolveGru4RecConfig } = await import(`${dist}/models/gru4rec/config.js`);
  const { Gru4RecParams } = await import(`${dist}/models/gru4rec/params.js`);
  const { Gru4RecStepper } = await import(`${dist}/models/gru4rec/train-step.js`);
  const { Gru4RecScorer } = await import(`${dist}/models/gru4rec/scorer.js`);
  const config = resolveGru4RecConfig({ layers: [100], batchSize: 128, nSample: 2048 });
  const params = new Gru4RecParams(config, N);
  params.initialize(new Rng(2));
  const { backendReadsSync } = await import(`${dist}/models/training/tensor-reads.js`);
  const { Gru4RecDeviceStepper } = await import(`${dist}/models/gru4rec/device-train-step.js`);
  const onDevice = stepperKind === 'auto' ? !backendReadsSync() : stepperKind === 'device';
  const stepper = new (onDevice ? Gru4RecDeviceStepper : Gru4RecStepper)(params, config, new PopularitySampler(support, config.sampleAlpha), new Rng(3));
  const batcher = new SessionParallelBatcher(data, config.batchSize);
  const nextBatch = () => { if (!batcher.step()) throw new Error('synthetic log exhausted'); return batcher.batch; };
  let queued = 0;
  const trained = !train ? undefined : onDevice
    ? await timeTraining(async (b) => { stepper.step(b); if (++queued % 16 === 0) await stepper.readLoss(); return b.size; }, nextBatch, () => stepper.readLoss())
    : await timeTraining(async (b) => { await stepper.stepAsync(b); return b.size; }, nextBatch);
  if (onDevice) stepper.dispose();
  mkdirSync(new URL('../tmp/', import.meta.url), { recursive: true });
  const indexFile = fileURLToPath(new URL(`../tmp/engine-gru4rec-${N}-${params.itemTable.length}.hnsw`, import.meta.url));
  // Serve the initial weights whether or not training ran (so the ANN graph cache stays valid).
  const fresh = new Gru4RecParams(config, N);
  fresh.initialize(new Rng(2));
  const serve = await servingRows((scoring) => new Gru4RecScorer(fresh, scoring === 'ann' ? { scoring, indexFile } : { scoring, select }));
  return { model: 'gru4rec', setting: `hidden 100, batch 128, 2048 samples, bpr-max (${onDevice ? 'device' : 'host'} stepper); serving top-20`, train: trained, serve };
}

async function transformer() {
  const { resolveTransformerConfig } = await import(`${dist}/models/transformer/config.js`);
  const { TransformerParams } = await import(`${dist}/models/transformer/params.js`);
  const { TransformerStepper } = await import(`${dist}/models/transformer/train-step.js`);
  const { TransformerScorer } = await import(`${dist}/models/transformer/scorer.js`);
  const config = resolveTransformerConfig({});
  const params = new TransformerParams(config, N);
  params.initialize(new Rng(2));
  // The stepper trainTransformer uses: host weights where reads are sync, device-resident ones elsewhere (webgpu).
  const { backendReadsSync } = await import(`${dist}/models/training/tensor-reads.js`);
  const { TransformerDeviceStepper } = await import(`${dist}/models/transformer/device-train-step.js`);
  const onDevice = stepperKind === 'auto' ? !backendReadsSync() : stepperKind === 'device';
  const stepper = new (onDevice ? TransformerDeviceStepper : TransformerStepper)(params, config, new PopularitySampler(support, config.sampleAlpha), new Rng(3));
  let s = 0, queued = 0;
  const windows = () => {
    const out = [];
    let positions = 0;
    while (out.length < config.batchSize) {
      const a = offsets[s % S], b = offsets[s % S + 1];
      s++;
      out.push({ items: data.items.subarray(a, Math.min(b, a + config.maxLength + 1)) });
      positions += Math.min(b - a, config.maxLength + 1) - 1;
    }
    out.positions = positions;
    return out;
  };
  const trained = !train ? undefined : onDevice
    ? await timeTraining(async (w) => { stepper.step(w); if (++queued % 16 === 0) await stepper.readLoss(); return w.positions; }, windows, () => stepper.readLoss())
    : await timeTraining(async (w) => { await stepper.stepAsync(w); return w.positions; }, windows);
  if (onDevice) stepper.dispose();
  mkdirSync(new URL('../tmp/', import.meta.url), { recursive: true });
  const indexFile = fileURLToPath(new URL(`../tmp/engine-transformer-${N}-${params.itemTable.length}.hnsw`, import.meta.url));
  const fresh = new TransformerParams(config, N);
  fresh.initialize(new Rng(2));
  const serve = await servingRows((scoring) => new TransformerScorer(fresh, scoring === 'ann' ? { scoring, indexFile } : { scoring, select }));
  return { model: 'transformer', setting: `defaults (d ${config.hiddenSize}, ${config.blocks} block, batch ${config.batchSize} windows, ${config.nSample} samples; ${onDevice ? 'device' : 'host'} stepper); serving top-20`, train: trained, serve };
}

const rows = [];
const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
const fmt = (x, digits = 0) => (x === undefined ? '–' : x.toFixed(digits));
for (const backend of backends) {
  await selectBackend({ backend, force: true, strict: true });
  for (const m of models) {
    const r = m === 'gru4rec' ? await gru4rec() : await transformer();
    rows.push({ backend, ...r });
    if (!json) {
      const serving = Object.entries(r.serve).map(([k, v]) => `${k} ${fmt(v.eventsPerSecond)} events/s, ${fmt(v.eventsPerCpuSecond)} per CPU second, CPU ms per batch observe ${fmt(v.cpuMsPerBatch.observe, 1)} + recommend ${fmt(v.cpuMsPerBatch.recommend, 1)} (${v.readsPerBatch} reads/batch of ${serveBatch}, ${v.readsPerObserve} per observe-only batch)`).join('; ');
      console.error(`${backend} ${m}: train ${fmt(r.train?.eventsPerSecond)} events/s (${r.train?.readsPerStep ?? '–'} reads/step); serve ${serving}`);
    }
  }
}
const result = { items: N, serveBatch, steps, select, load: { before: loadBefore, after: loadavg().map((l) => Number(l.toFixed(2))) }, node: process.version, rows };
if (json) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`| model | backend | reads / training step | training events/s | serving path | reads / serving batch | reads / observe-only batch | serving events/s | serving events / CPU s |`);
  console.log(`|---|---|---|---|---|---|---|---|---|`);
  for (const r of rows) {
    for (const [path, v] of Object.entries(r.serve)) console.log(`| ${r.model} | ${r.backend} | ${r.train?.readsPerStep ?? '–'} | ${fmt(r.train?.eventsPerSecond)} | ${path} | ${v.readsPerBatch} | ${v.readsPerObserve} | ${fmt(v.eventsPerSecond)} | ${fmt(v.eventsPerCpuSecond)} |`);
  }
  console.log(`load average before ${result.load.before.join(', ')}, after ${result.load.after.join(', ')}`);
}
