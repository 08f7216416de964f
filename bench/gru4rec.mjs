// GRU4Rec throughput: training events/s and inference events/s (single event and batched) per backend,
// on a synthetic log with a 43k-item catalogue (the Diginetica size). Run `npm run build` first.
// usage: nice -n 10 node bench/gru4rec.mjs [--backends wasm,cpu] [--hidden 100,256] [--steps 60]
import { selectBackend } from '../dist/src/backend/select-backend.js';
import { ItemVocabulary } from '../dist/src/vocab/item-vocabulary.js';
import { newSessionState } from '../dist/src/sessions/session-state.js';
import { resolveGru4RecConfig } from '../dist/models/gru4rec/config.js';
import { Gru4RecParams } from '../dist/models/gru4rec/params.js';
import { Gru4RecStepper } from '../dist/models/gru4rec/train-step.js';
import { Gru4RecScorer } from '../dist/models/gru4rec/scorer.js';
import { Rng } from '../dist/models/training/rng.js';
import { PopularitySampler } from '../dist/models/training/sampler.js';
import { SessionParallelBatcher } from '../dist/models/training/session-batcher.js';

const arg = (name, def) => { const i = process.argv.indexOf(name); return i < 0 ? def : process.argv[i + 1]; };
const backends = arg('--backends', 'wasm,cpu').split(',');
const hiddens = arg('--hidden', '100,256').split(',').map(Number);
const steps = Number(arg('--steps', '60'));
const N = 43097;

const rng = new Rng(1);
const S = 20000;
const offsets = new Int32Array(S + 1);
const items = [];
for (let s = 0; s < S; s++) {
  const len = 2 + rng.int(6);
  for (let i = 0; i < len; i++) items.push(Math.floor(Math.pow(rng.next(), 3) * N));
  offsets[s + 1] = items.length;
}
const data = { offsets, items: Int32Array.from(items) };
const support = new Float64Array(N);
for (const i of items) support[i]++;

console.log(`| backend | hidden | train events/s (batch 128, 2048 samples, bpr-max) | inference events/s, 1 session | inference events/s, batch 256 |`);
console.log(`|---|---|---|---|---|`);
for (const backend of backends) {
  await selectBackend({ backend, force: true, strict: true });
  for (const h of hiddens) {
    const config = resolveGru4RecConfig({ layers: [h], batchSize: 128, nSample: 2048 });
    const params = new Gru4RecParams(config, N);
    params.initialize(new Rng(2));
    const stepper = new Gru4RecStepper(params, config, new PopularitySampler(support, config.sampleAlpha), new Rng(3));
    const batcher = new SessionParallelBatcher(data, config.batchSize);
    const trainSteps = backend === 'cpu' ? Math.max(3, Math.floor(steps / 10)) : steps;
    for (let i = 0; i < 3; i++) { batcher.step(); stepper.step(batcher.batch); }
    let ev = 0;
    let t0 = performance.now();
    for (let i = 0; i < trainSteps && batcher.step(); i++) { stepper.step(batcher.batch); ev += batcher.batch.size; }
    const trainRate = ev / ((performance.now() - t0) / 1000);
    const scorer = new Gru4RecScorer(params);
    // Single event: one GRU step + full score row for one session.
    const one = newSessionState('s', 0, 0);
    const singleRuns = backend === 'cpu' ? 20 : 200;
    for (let i = 0; i < 5; i++) { one.items.push(i); scorer.observe([one]); scorer.score([one]); }
    t0 = performance.now();
    for (let i = 0; i < singleRuns; i++) { one.items.push(i % N); scorer.observe([one]); scorer.score([one]); }
    const singleRate = singleRuns / ((performance.now() - t0) / 1000);
    const batch = Array.from({ length: 256 }, (_, k) => { const s = newSessionState(`b${k}`, 0, 0); s.items.push(k); return s; });
    scorer.observe(batch); scorer.score(batch);
    const batchRuns = backend === 'cpu' ? 2 : 10;
    t0 = performance.now();
    for (let i = 0; i < batchRuns; i++) { for (const s of batch) s.items.push((i * 31 + s.items.length) % N); scorer.observe(batch); scorer.score(batch); }
    const batchRate = (batchRuns * 256) / ((performance.now() - t0) / 1000);
    scorer.dispose();
    console.log(`| ${backend} | ${h} | ${trainRate.toFixed(0)} | ${singleRate.toFixed(0)} | ${batchRate.toFixed(0)} |`);
  }
}
