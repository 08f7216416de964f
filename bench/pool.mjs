// The embedded SDK on one thread (Recommender) vs all cores (RecommenderPool), GRU4Rec loaded from a saved
// directory, exact or ANN serving top-k (NEXTCLICK_SCORING, read by every worker). Sustained events/s with
// `--outstanding` events in flight, then event→recommendation latency with events paced at half that rate.
// The output table is bench/synthetic-table.mjs's clustered table (ANN behaves as on a trained model; random
// weights would make every item equidistant). Prints a table, writes bench/results/pool.json. Build first.
// usage: node bench/pool.mjs [--items 43000] [--hidden 100] [--scoring exact,ann] [--workers 1,2] [--seconds 4]
//        [--candidates N]   (NEXTCLICK_ANN_CANDIDATES for every worker) [--offered N]  (latency phase rate; default half the sustained rate)
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
import { makeTable } from './synthetic-table.mjs';

const arg = (name, def) => { const i = process.argv.indexOf(name); return i < 0 ? def : process.argv[i + 1]; };
const n = Number(arg('--items', '43000'));
const hidden = Number(arg('--hidden', '100'));
const scorings = arg('--scoring', 'exact,ann').split(',');
const workerCounts = arg('--workers', '1,2').split(',').map(Number);
const seconds = Number(arg('--seconds', '4'));
const outstanding = Number(arg('--outstanding', '4096'));
const out = arg('--out', 'bench/results/pool.json');
const candidates = arg('--candidates', undefined);
const offered = arg('--offered', undefined);
if (candidates) process.env['NEXTCLICK_ANN_CANDIDATES'] = candidates;
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN; };
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

// A GRU4Rec with random recurrent weights and the clustered output table (tied embedding).
const dir = await mkdtemp(join(tmpdir(), 'nextclick-pool-bench-'));
const config = resolveGru4RecConfig({ layers: [hidden] });
const params = new Gru4RecParams(config, n);
params.initialize(new Rng(1));
params.itemTable.set(makeTable(n, hidden, 1).vectors);
await saveGru4Rec(dir, { params, config, vocabulary: ItemVocabulary.fromIds(Array.from({ length: n }, (_, i) => `i${i}`)) });

const results = { machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, items: n, hidden, candidates: candidates ?? 'default', runs: [] };
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
    // Latency at half the sustained rate: events on a 1 ms clock, latency = observe → recommendation.
    const rate = offered ? Number(offered) : Math.max(1, Math.floor(eps / 2));
    const lat = [];
    const start = performance.now();
    let sent = 0;
    await new Promise((resolve, reject) => {
      const pending = [];
      const tick = () => {
        const now = performance.now();
        const due = Math.floor(((now - start) / 1000) * rate);
        for (; sent < due; sent++) {
          const at = performance.now();
          pending.push(rec.observe(event()).then(() => { lat.push(performance.now() - at); }));
        }
        if (now - start < seconds * 1000) setTimeout(tick, 1); else Promise.all(pending).then(resolve, reject);
      };
      tick();
    });
    await rec.close();
    const r = { scoring, threads: workers === 0 ? 'in-process' : `pool × ${workers}`, eventsPerSec: eps, offeredPerSec: rate, p50ms: +pct(lat, 0.5).toFixed(2), p99ms: +pct(lat, 0.99).toFixed(2), loadS, load: load() };
    results.runs.push(r);
    console.log(`GRU d=${hidden} items=${n} ${scoring} ${r.threads}: ${eps} events/s sustained; at ${rate} ev/s: p50 ${r.p50ms} ms, p99 ${r.p99ms} ms (model load ${loadS}s; load ${r.load})`);
  }
}
await rm(dir, { recursive: true, force: true });
console.table(results.runs);
mkdirSync('bench/results', { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`wrote ${out}`);
