// Serving speed: exact vs ANN top-20 per catalog size and batch size (ItemScoringTable), recall@20 of ANN
// against exact, and the embedded GRU pipeline end to end (sustained events/s, event→recommendation latency
// at a fixed rate). Prints tables, writes bench/results/inference.json. Run `npm run build` first.
// usage: node bench/inference.mjs [--items 10000,43000,200000,1000000] [--dims 100] [--batches 1,16,64,256]
//        [--modes exact,ann,loop] [--candidates 50] [--ef-construction-1m 128] [--pipeline 43000] [--seconds 2] [--out file]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { selectBackend } from '../dist/src/backend/select-backend.js';
import { ItemScoringTable, itemScoringTableDefaults } from '../dist/models/scoring/item-scoring-table.js';
import { resolveGru4RecConfig } from '../dist/models/gru4rec/config.js';
import { Gru4RecParams } from '../dist/models/gru4rec/params.js';
import { Gru4RecScorer } from '../dist/models/gru4rec/scorer.js';
import { Rng } from '../dist/models/training/rng.js';
import { ClickPipeline } from '../dist/src/pipeline/click-pipeline.js';
import { ItemVocabulary } from '../dist/src/vocab/item-vocabulary.js';
import { makeQueries, makeTable } from './synthetic-table.mjs';

const arg = (name, def) => { const i = process.argv.indexOf(name); return i < 0 ? def : process.argv[i + 1]; };
const list = (name, def) => arg(name, def).split(',').filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
const itemCounts = list('--items', '10000,43000,200000,1000000');
const dims = Number(arg('--dims', '100'));
const batches = list('--batches', '1,16,64,256');
const modes = list('--modes', 'exact,ann,loop');
const candidates = Number(arg('--candidates', String(itemScoringTableDefaults.candidates)));
const efConstruction1M = Number(arg('--ef-construction-1m', '128'));
const pipelineItems = list('--pipeline', '43000');
const seconds = Number(arg('--seconds', '2'));
const out = arg('--out', 'bench/results/inference.json');
// Cache ANN graphs here (built once, loaded by later runs; the JSON says which).
const indexDir = arg('--index-dir', undefined);
const buildOnly = process.argv.includes('--build-only');
const backend = (await selectBackend({ backend: arg('--backend', 'auto') })).backend;
const K = 20;

const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, backend };
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`# inference bench — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, tfjs backend ${backend}, d=${dims}, k=${K}`);

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

/** Runs batches of `B` queries for ~`seconds`; returns events/s and per-batch latency percentiles. */
function timeBatches(table, queries, B) {
  const d = table.dims, Q = queries.length / d;
  const times = [];
  let events = 0, q = 0;
  const t0 = performance.now();
  table.scoreTopK(queries.subarray(0, B * d), B, K); // warm-up
  while (performance.now() - t0 < seconds * 1000 || times.length < 3) {
    if (q + B > Q) q = 0;
    const s = performance.now();
    table.scoreTopK(queries.subarray(q * d, (q + B) * d), B, K);
    times.push(performance.now() - s);
    events += B; q += B;
  }
  const total = times.reduce((a, b) => a + b, 0);
  return { batch: B, eventsPerSec: Math.round(events / (total / 1000)), p50ms: +pct(times, 0.5).toFixed(3), p99ms: +pct(times, 0.99).toFixed(3), batches: times.length };
}

const results = { machine, started: new Date().toISOString(), dims, k: K, candidates, tables: [], pipeline: [] };
const rows = [];
for (const n of itemCounts) {
  const table = makeTable(n, dims, 1);
  const queries = makeQueries(table, 1024, 2);
  const entry = { items: n, runs: [] };
  const exact = new ItemScoringTable(table, { scoring: 'exact' });
  // Reference top-20 for recall: 256 queries, exact (in slices: a 256 × 1M score matrix would not fit).
  const R = 256;
  const truth = [];
  const slice = Math.max(1, Math.min(R, Math.floor(16e6 / n)));
  if (!buildOnly) for (let b = 0; b < R; b += slice) truth.push(...exact.scoreTopK(queries.subarray(b * dims, Math.min(R, b + slice) * dims), Math.min(R, b + slice) - b, K));
  for (const mode of modes) {
    let t = exact;
    let buildS;
    if (mode === 'ann') {
      const s = performance.now();
      // The library default up to 200k items; the 1M graph is built with a smaller efConstruction so the
      // build stays within minutes on 2 cores (--ef-construction-1m).
      const expansionAdd = n >= 500_000 ? efConstruction1M : itemScoringTableDefaults.expansionAdd;
      const indexFile = indexDir && `${indexDir}/items-${n}-d${dims}-m${itemScoringTableDefaults.connectivity}-ea${expansionAdd}.hnsw`;
      const cached = indexFile !== undefined && existsSync(indexFile);
      if (indexDir) mkdirSync(indexDir, { recursive: true });
      t = new ItemScoringTable(table, { scoring: 'ann', candidates, expansionAdd, indexFile });
      buildS = `${((performance.now() - s) / 1000).toFixed(1)}${cached ? ' (loaded)' : ''}`;
      console.log(`items=${n} ANN index ${cached ? 'loaded' : 'built'} in ${buildS} s (M=16, efConstruction=${expansionAdd}), load ${load()}`);
      if (buildOnly) { t.dispose(); continue; }
    } else if (mode === 'loop') {
      if (n > 50_000) continue; // minutes per batch at larger sizes
      t = new ItemScoringTable(table, { scoring: 'exact', exact: 'loop' });
    }
    let recall;
    if (mode === 'ann') {
      const got = t.scoreTopK(queries.subarray(0, R * dims), R, K);
      let hit = 0;
      got.forEach((r, b) => { const want = new Set(truth[b].items); for (const ix of r.items) if (want.has(ix)) hit++; });
      recall = +(hit / (R * K)).toFixed(4);
    }
    for (const B of batches) {
      // Exact scores a B × N matrix at once: cap it at 16M floats (64 MB).
      if (mode === 'exact' && B * n > 16e6) continue;
      if (mode === 'loop' && B > 16) continue;
      const r = { mode, ...timeBatches(t, queries, B), recall, buildS, load: load() };
      entry.runs.push(r);
      rows.push({ items: n, ...r });
      console.log(`items=${n} ${mode.padEnd(5)} batch=${String(B).padStart(3)}  ${String(r.eventsPerSec).padStart(7)} ev/s  p50 ${r.p50ms} ms  p99 ${r.p99ms} ms/batch${recall !== undefined ? `  recall@20 ${recall}` : ''}${buildS !== undefined ? `  build ${buildS}s` : ''}  load ${r.load}`);
    }
    if (t !== exact) t.dispose();
  }
  exact.dispose();
  results.tables.push(entry);
}
if (rows.length) console.table(rows.map((r) => ({ items: r.items, mode: r.mode, batch: r.batch, 'events/s': r.eventsPerSec, 'p50 ms': r.p50ms, 'p99 ms': r.p99ms, 'recall@20': r.recall ?? '', 'build s': r.buildS ?? '', load: r.load })));

// ---- End to end: GRU4Rec (one layer of `dims`) through ClickPipeline.push (micro-batching), one thread.
for (const n of buildOnly ? [] : pipelineItems) {
  const params = new Gru4RecParams(resolveGru4RecConfig({ layers: [dims] }), n);
  params.initialize(new Rng(3));
  params.itemTable.set(makeTable(n, dims, 1).vectors);
  const vocab = ItemVocabulary.fromIds(Array.from({ length: n }, (_, i) => `i${i}`));
  for (const scoring of ['ann', 'exact']) {
    const s0 = performance.now();
    const scorer = new Gru4RecScorer(params, { scoring, candidates });
    const buildS = +((performance.now() - s0) / 1000).toFixed(1);
    const rng = new Rng(5);
    const live = 20_000;
    const nextEvent = (t) => ({ sessionId: `s${rng.int(live)}`, itemId: `i${Math.floor(Math.pow(rng.next(), 3) * n)}`, timestamp: t });
    const mkPipe = () => new ClickPipeline(scorer, vocab, { k: K, maxBatchSize: 256 });
    // Sustained: keep 2048 events outstanding; the pipeline cuts batches of ≤ 256 (one step in flight).
    let pipe = mkPipe();
    let ts = 0;
    const warm = []; for (let i = 0; i < 2048; i++) warm.push(pipe.push(nextEvent(ts++), 0));
    await Promise.all(warm);
    let done = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 2000) {
      const ps = []; for (let i = 0; i < 2048; i++) ps.push(pipe.push(nextEvent(ts++), 0));
      await Promise.all(ps);
      done += 2048;
    }
    const sustained = Math.round(done / ((performance.now() - t0) / 1000));
    await pipe.close();
    // Latency at half the sustained rate: events arrive on a 1 ms clock; latency = push → recommendation.
    pipe = mkPipe();
    const rate = Math.max(1, Math.floor(sustained / 2));
    const lat = [];
    const start = performance.now();
    let sent = 0;
    await new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.floor(((now - start) / 1000) * rate);
        for (; sent < due; sent++) {
          const at = performance.now();
          pipe.push(nextEvent(ts++), 0).then(() => lat.push(performance.now() - at));
        }
        if (now - start < seconds * 2000) setTimeout(tick, 1); else pipe.flush().then(resolve);
      };
      tick();
    });
    const achieved = Math.round(lat.length / ((performance.now() - start) / 1000));
    await pipe.close();
    scorer.dispose();
    const r = { items: n, scoring, buildS, sustainedEventsPerSec: sustained, offeredPerSec: rate, achievedPerSec: achieved, p50ms: +pct(lat, 0.5).toFixed(2), p99ms: +pct(lat, 0.99).toFixed(2), load: load() };
    results.pipeline.push(r);
    console.log(`pipeline GRU d=${dims} items=${n} ${scoring}: sustained ${sustained} ev/s; at ${rate} ev/s offered: p50 ${r.p50ms} ms, p99 ${r.p99ms} ms (build ${buildS}s, load ${r.load})`);
  }
}
if (results.pipeline.length) console.table(results.pipeline);

mkdirSync('bench/results', { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`wrote ${out}`);
