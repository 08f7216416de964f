// ANN recall@20 against exact top-20 on a REAL trained GRU4Rec: its output item table and the hidden states
// of real test sessions (every prefix). Also times both paths on those queries. Run `npm run build` first.
// usage: node bench/ann-recall.mjs <model dir> <sessions file: one session per line, item ids space-separated>
//        [--sessions 600] [--candidates 20,30,50,100] [--connectivity 16] [--ef-construction 200] [--out bench/results/ann-recall.json]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { readGru4Rec } from '../dist/models/gru4rec/io.js';
import { Gru4RecScorer } from '../dist/models/gru4rec/scorer.js';
import { ItemScoringTable } from '../dist/models/scoring/item-scoring-table.js';
import { selectBackend } from '../dist/src/backend/select-backend.js';
import { newSessionState } from '../dist/src/sessions/session-state.js';
import { OOV } from '../dist/src/vocab/item-vocabulary.js';

const [modelDir, sessionsFile] = process.argv.slice(2);
if (!modelDir || !sessionsFile) { console.error('usage: node bench/ann-recall.mjs <model dir> <sessions file> [--sessions 600] [--candidates 20,30,50,100]'); process.exit(2); }
const arg = (name, def) => { const i = process.argv.indexOf(name); return i < 0 ? def : process.argv[i + 1]; };
const maxSessions = Number(arg('--sessions', '600'));
const candidateList = arg('--candidates', '20,30,50,100').split(',').map(Number);
const out = arg('--out', 'bench/results/ann-recall.json');
const connectivity = Number(arg('--connectivity', '16'));
const expansionAdd = Number(arg('--ef-construction', '200'));
const K = 20;
const backend = (await selectBackend()).backend;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

const m = await readGru4Rec(modelDir);
const scorer = new Gru4RecScorer(m.params);
const d = m.params.outSize, n = m.params.itemCount;
// Hidden state after every prefix of the first sessions (the queries serving sees).
const lines = readFileSync(sessionsFile, 'utf8').split('\n').filter(Boolean).slice(0, maxSessions);
const hs = [];
for (const line of lines) {
  const s = newSessionState('q', 0, 0);
  for (const id of line.trim().split(/\s+/)) {
    const ix = m.vocabulary.indexOf(id);
    if (ix === OOV) continue;
    s.items.push(ix);
    scorer.observe([s]);
    const states = await scorer.readStates([s]); // every layer's state; the last d floats are the query
    hs.push(states.subarray(states.length - d));
  }
}
const Q = hs.length;
const hidden = new Float32Array(Q * d);
hs.forEach((h, i) => hidden.set(h, i * d));
console.log(`# ANN recall on ${modelDir}: ${n} items, d=${d}, ${Q} real prefix states from ${lines.length} sessions, backend ${backend}`);

// µs per query, wall clock; `cpu` collects the process CPU µs per query too (meaningful on a busy machine).
const cpu = {};
const time = (table, B, label = `${B}`) => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let b = 0; b + B <= Q; b += B) table.scoreTopK(hidden.subarray(b * d, (b + B) * d), B, K);
  const c = process.cpuUsage(c0), q = Math.floor(Q / B) * B;
  cpu[label] = +((c.user + c.system) / q).toFixed(1);
  return +(((performance.now() - t0) / q) * 1000).toFixed(1);
};
const exact = new ItemScoringTable({ vectors: m.params.itemTable, bias: m.params.outputBias, itemCount: n, dims: d }, { scoring: 'exact' });
const truth = [];
for (let b = 0; b < Q; b += 256) truth.push(...exact.scoreTopK(hidden.subarray(b * d, Math.min(Q, b + 256) * d), Math.min(Q, b + 256) - b, K));
const results = { machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, backend }, modelDir, items: n, dims: d, queries: Q, exactUsPerQueryBatch256: time(exact, 256), runs: [] };
results.exactCpuUsPerQueryBatch256 = cpu['256'];
console.log(`exact: ${results.exactUsPerQueryBatch256} µs/query (batch 256), ${results.exactCpuUsPerQueryBatch256} µs CPU; load ${load()}`);
const t0 = performance.now();
const c0 = process.cpuUsage();
const ann = new ItemScoringTable({ vectors: m.params.itemTable, bias: m.params.outputBias, itemCount: n, dims: d }, { scoring: 'ann', candidates: K, connectivity, expansionAdd });
results.buildS = +((performance.now() - t0) / 1000).toFixed(1);
const buildCpu = process.cpuUsage(c0);
results.buildCpuS = +((buildCpu.user + buildCpu.system) / 1e6).toFixed(1);
results.connectivity = connectivity;
results.efConstruction = expansionAdd;
console.log(`ANN build ${results.buildS}s, ${results.buildCpuS}s CPU (M=${connectivity}, efConstruction=${expansionAdd}), load ${load()}`);
for (const c of candidateList) {
  ann.candidates = c; // readonly in the typings; the bench sweeps it on one graph
  const got = [];
  for (let b = 0; b < Q; b += 256) got.push(...ann.scoreTopK(hidden.subarray(b * d, Math.min(Q, b + 256) * d), Math.min(Q, b + 256) - b, K));
  let hit = 0;
  got.forEach((r, i) => { const want = new Set(truth[i].items); for (const ix of r.items) if (want.has(ix)) hit++; });
  const r = { candidates: c, recallAt20: +(hit / (Q * K)).toFixed(4), usPerQueryBatch256: time(ann, 256), usPerQueryBatch1: time(ann, 1), load: load() };
  r.cpuUsPerQueryBatch256 = cpu['256'];
  r.cpuUsPerQueryBatch1 = cpu['1'];
  results.runs.push(r);
  console.log(`candidates=${c}: recall@20 ${r.recallAt20}; ${r.usPerQueryBatch256} µs/query (batch 256; ${r.cpuUsPerQueryBatch256} µs CPU), ${r.usPerQueryBatch1} µs/query (batch 1; ${r.cpuUsPerQueryBatch1} µs CPU); load ${r.load}`);
}
console.table(results.runs);
mkdirSync('bench/results', { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`wrote ${out}`);
