// GRU4Rec accuracy runs on the shared data sets (see bench/gru4rec.md for commands and results).
// usage: node bench/gru4rec-accuracy.mjs diginetica|yoochoose [key=value ...] [--limit N] [--max-test N] [--out DIR]
import { readFileSync } from 'node:fs';
import { ItemVocabulary } from '../dist/src/vocab/item-vocabulary.js';
import { newSessionState } from '../dist/src/sessions/session-state.js';
import { rankOf } from '../dist/src/scoring/top-k.js';
import { trainGru4Rec } from '../dist/models/gru4rec/train.js';
import { Gru4RecScorer } from '../dist/models/gru4rec/scorer.js';
import { parseGru4RecParams } from '../dist/models/gru4rec/config.js';
import { saveGru4Rec, readGru4Rec } from '../dist/models/gru4rec/io.js';
import { selectBackend } from '../dist/src/backend/select-backend.js';

const args = process.argv.slice(2);
const dataset = args.shift();
const flag = (name) => { const i = args.indexOf(name); if (i < 0) return undefined; const v = args[i + 1]; args.splice(i, 2); return v; };
const limit = Number(flag('--limit') ?? Infinity);
const maxTest = Number(flag('--max-test') ?? Infinity);
const outDir = flag('--out');
const modelDir = flag('--model'); // evaluate a saved model directory instead of training
const config = parseGru4RecParams(args);

function loadDiginetica() {
  const lines = readFileSync('../shared/data/diginetica/train_sessions.txt', 'utf8').split('\n').filter((l) => l.trim());
  // --limit keeps the LATEST sessions (closest to the test period).
  const sessions = lines.slice(Math.max(0, lines.length - limit)).map((l) => l.trim().split(/\s+/));
  const test = readFileSync('../shared/data/diginetica/test_prefix_target.tsv', 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
    const [p, t] = l.split('\t');
    return { prefix: p.trim().split(/\s+/), target: t.trim() };
  });
  return { sessions, test };
}

function loadTsv(path) {
  const rows = readFileSync(path, 'utf8').split('\n').slice(1).filter((l) => l.trim()).map((l) => l.split('\t'));
  const bySession = new Map();
  for (const [s, i, t] of rows) {
    let e = bySession.get(s);
    if (!e) bySession.set(s, (e = { items: [], first: Number(t) }));
    e.items.push(i);
  }
  return [...bySession.values()].sort((a, b) => a.first - b.first).map((e) => e.items);
}

function loadYoochoose() {
  const sessions = loadTsv('../shared/data/yoochoose-100k/train.tsv').slice(-Math.min(limit, 1e9));
  const test = [];
  for (const items of loadTsv('../shared/data/yoochoose-100k/test.tsv')) for (let i = 1; i < items.length; i++) test.push({ prefix: items.slice(0, i), target: items[i] });
  return { sessions, test };
}

const { sessions, test } = dataset === 'diginetica' ? loadDiginetica() : loadYoochoose();
let trained;
if (modelDir) {
  await selectBackend();
  trained = await readGru4Rec(modelDir);
  console.log(`loaded ${modelDir}: ${JSON.stringify(trained.manifest.metrics?.epoch ?? trained.manifest.metrics?.bestEpoch)} epoch(s)`);
}
const counts = new Map();
for (const s of sessions) for (const id of s) counts.set(id, (counts.get(id) ?? 0) + 1);
const vocabulary = trained ? trained.vocabulary : ItemVocabulary.fromCounts(counts);
const offsets = new Int32Array(sessions.length + 1);
const flat = [];
sessions.forEach((s, i) => { for (const id of s) flat.push(vocabulary.indexOf(id)); offsets[i + 1] = flat.length; });
console.log(`${dataset}: ${sessions.length} sessions, ${flat.length} events, ${vocabulary.size} items; config ${JSON.stringify(config)}`);

const result = trained ?? await trainGru4Rec({ vocabulary, offsets, items: Int32Array.from(flat) }, {
  config,
  progress: true,
  // A checkpoint per epoch so a run stopped early still leaves its latest weights.
  onEpoch: outDir ? (m, params, vocab) => saveGru4Rec(`${outDir}/checkpoint`, { params, config: params.config, vocabulary: vocab, metrics: { ...m } }) : undefined,
});
if (!trained) {
  console.log(`trained in ${result.trainSeconds.toFixed(0)} s on ${result.backend}; best epoch ${result.bestEpoch}`);
  if (outDir) await saveGru4Rec(outDir, result);
}

const scorer = new Gru4RecScorer(result.params);
const N = scorer.itemCount;
let hits = 0, rr = 0, n = 0;
const t0 = performance.now();
const evalSet = test.slice(0, maxTest);
for (let start = 0; start < evalSet.length; start += 256) {
  const chunk = evalSet.slice(start, start + 256);
  const states = chunk.map((c, i) => {
    const st = newSessionState(String(i), 0, 0);
    for (const id of c.prefix) { const ix = vocabulary.indexOf(id); if (ix >= 0) st.items.push(ix); }
    return st;
  });
  scorer.observe(states);
  const scores = scorer.score(states);
  chunk.forEach((c, k) => {
    n++;
    const target = vocabulary.indexOf(c.target);
    if (target < 0) return;
    const rank = rankOf(scores, target, 'conservative', k * N, N);
    if (rank <= 20) { hits++; rr += 1 / rank; }
  });
}
console.log(`TEST ${dataset}: P@20 ${(hits / n).toFixed(4)} MRR@20 ${(rr / n).toFixed(4)} over ${n} predictions (full ranking of ${N} items, conservative ties), eval ${((performance.now() - t0) / 1000).toFixed(0)} s`);
scorer.dispose();
