// The embedded SDK on one thread (Recommender) vs all cores (RecommenderPool), GRU4Rec loaded from a saved
// directory, exact or ANN serving top-k (NEXTCLICK_SCORING, read by every worker). Sustained events/s with
// `--outstanding` events in flight. Prints a table, writes bench/results/pool.json. Run `npm run build` first.
// usage: node bench/pool.mjs [--items 43000] [--hidden 100] [--scoring exact,ann] [--workers 1,2] [--seconds 4]
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recommender } from '../dist/index.js';
import { resolveGru4RecConfig } from '../dist/models/gru4rec/config.js';
import { saveGru4Rec } from '../dist/models/gru4rec/io.js';
import { Gru4RecParams } from '../dist/models/gru4rec/params.js';
import { Rng } from '../dist/models/training/rng.js';
import { ItemVocabulary } from '../dist/src/vocab/item-vocabulary.js';
import { RecommenderPool } from '../dist/streaming/pool/recommender-pool.js';

const arg = (name, def) => { const i = process.argv.indexOf(name); return i < 0 ? def : process.argv[i + 1]; };
const n = Number(arg('--items', '43000'));
const hidden = Number(arg('--hidden', '100'));
const scorings = arg('--scoring', 'exact,ann').split(',');
const workerCounts = arg('--workers', '1,2').split(',').map(Number);
const seconds = Number(arg('--seconds', '4'));
const outstanding = Number(arg('--outstanding', '4096'));
const out = arg('--out', 'bench/results/pool.json');
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

// A randomly initialised GRU4Rec (speed does not depend on the weights' values).
const dir = await mkdtemp(join(tmpdir(), 'nextclick-pool-bench-'));
const config = resolveGru4RecConfig({ layers: [hidden] });
const params = new Gru4RecParams(config, n);
params.initialize(new Rng(1));
await saveGru4Rec(dir, { params, config, vocabulary: ItemVocabulary.fromIds(Array.from({ length: n }, (_, i) => `i${i}`)) });

const results = { machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, items: n, hidden, runs: [] };
for (const scoring of scorings) {
  process.env['NEXTCLICK_SCORING'] = scoring;
  for (const workers of [0, ...workerCounts]) {
    const t0 = performance.now();
    // workers = 0: the in-process Recommender.
    const rec = workers === 0 ? await Recommender.load(dir) : await RecommenderPool.load(dir, { workers });
    const loadS = +((performance.now() - t0) / 1000).toFixed(1);
    const rng = new Rng(7);
    let ts = 0;
    const event = () => ({ sessionId: `s${rng.int(50_000)}`, itemId: `i${Math.floor(Math.pow(rng.next(), 3) * n)}`, timestamp: ts++ });
    const round = () => Promise.all(Array.from({ length: outstanding }, () => rec.observe(event())));
    await round();
    let done = 0;
    const s = performance.now();
    while (performance.now() - s < seconds * 1000) { await round(); done += outstanding; }
    const eps = Math.round(done / ((performance.now() - s) / 1000));
    await rec.close();
    const r = { scoring, threads: workers === 0 ? 'in-process' : `pool × ${workers}`, eventsPerSec: eps, loadS, load: load() };
    results.runs.push(r);
    console.log(`GRU d=${hidden} items=${n} ${scoring} ${r.threads}: ${eps} events/s (model load ${loadS}s; load ${r.load})`);
  }
}
await rm(dir, { recursive: true, force: true });
console.table(results.runs);
mkdirSync('bench/results', { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`wrote ${out}`);
