// Native TensorFlow (`nextclick setup tensorflow`, all cores) vs wasm (SIMD, one thread; and the transformer's
// data-parallel workers on wasm): training and serving events/s of GRU4Rec and the transformer on the same
// generated log, plus HR@20/MRR@20 to show the backends learn the same. Each (backend, model) runs in its own
// process (the backend is chosen once per process), one after another; every row carries the 1-min load
// average at its start and end. Prints a markdown table, writes bench/results/tensorflow.json.
// Run `npm run build` and `npx nextclick setup tensorflow` first.
// usage: node bench/tensorflow.mjs [--sessions 6000] [--items 1000] [--epochs 2] [--seed 42]
//        [--runs tensorflow:gru4rec,wasm:gru4rec,tensorflow:transformer,wasm:transformer,wasm:transformer:2]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const arg = (name, def) => { const i = process.argv.indexOf(name); return i < 0 ? def : process.argv[i + 1]; };
const sessions = Number(arg('--sessions', '6000'));
const items = Number(arg('--items', '1000'));
const epochs = Number(arg('--epochs', '2'));
const seed = Number(arg('--seed', '42'));
const load1 = () => loadavg()[0].toFixed(2);

/** The demo's full-size configurations (models/index.ts, models/transformer/register.ts), fixed epochs, no validation. */
const configs = {
  gru4rec: { layers: [100], epochs, nSample: 512, batchSize: 64, validationFraction: 0, seed },
  transformer: { hiddenSize: 64, epochs, nSample: 512, batchSize: 64, validationFraction: 0, seed },
};

if (process.argv.includes('--child')) {
  const [backend, model, workers] = arg('--child').split(':');
  const { generateSessions, sessionsToEvents } = await import('../dist/src/synthetic/generator.js');
  const { buildCorpus } = await import('../dist/src/baselines/corpus.js');
  const { evaluateReplay } = await import('../dist/src/eval/replay-evaluator.js');
  const { selectBackend } = await import('../dist/src/backend/select-backend.js');
  const selection = await selectBackend({ backend, strict: true });
  const log = generateSessions({ sessions, items, seed });
  const corpus = await buildCorpus(log.train);
  let trained;
  if (model === 'gru4rec') {
    const { trainGru4Rec, Gru4RecScorer } = await import('../dist/models/index.js');
    const r = await trainGru4Rec(corpus, { config: configs.gru4rec });
    trained = { r, scorer: new Gru4RecScorer(r.params) };
  } else {
    const { trainTransformer, TransformerScorer } = await import('../dist/models/index.js');
    const r = await trainTransformer(corpus, { config: { ...configs.transformer, ...(workers ? { workers: Number(workers) } : {}) } });
    trained = { r, scorer: new TransformerScorer(r.params) };
  }
  const { r, scorer } = trained;
  const trainEvents = r.epochs.reduce((n, e) => n + e.events, 0);
  const trainSeconds = r.epochs.reduce((n, e) => n + e.seconds, 0);
  const replay = await evaluateReplay(scorer, r.vocabulary, sessionsToEvents(log.test), { cutoffs: [20] });
  await scorer.dispose?.();
  process.stdout.write(JSON.stringify({
    backend: selection.backend, adapter: selection.adapter, model, workers: workers ? Number(workers) : 1,
    trainEventsPerSecond: trainEvents / trainSeconds, trainSeconds, finalLoss: r.epochs.at(-1).loss,
    serveEventsPerSecond: replay.eventsPerSecond, hr20: replay.cutoffs[0].hitRate, mrr20: replay.cutoffs[0].mrr,
  }) + '\n');
  process.exit(0);
}

const runs = arg('--runs', 'tensorflow:gru4rec,wasm:gru4rec,tensorflow:transformer,wasm:transformer,wasm:transformer:2').split(',');
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version };
console.log(`# tensorflow vs wasm — ${machine.cpu}, ${machine.cores} cores, node ${machine.node}; ${sessions} generated sessions, ${items} items, ${epochs} epochs, seed ${seed}`);
const rows = [];
for (const run of runs) {
  const loadBefore = load1();
  const t0 = performance.now();
  const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--child', run, '--sessions', String(sessions), '--items', String(items), '--epochs', String(epochs), '--seed', String(seed)],
    { encoding: 'utf8', env: { ...process.env, NEXTCLICK_BACKEND: run.split(':')[0] }, maxBuffer: 1 << 26 });
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !line.startsWith('{')) {
    console.error(`${run} failed (${child.status}):\n${child.stderr.slice(-2000)}`);
    rows.push({ run, failed: true });
    continue;
  }
  const row = { run, ...JSON.parse(line), loadBefore, loadAfter: load1(), wallSeconds: (performance.now() - t0) / 1000 };
  rows.push(row);
  console.error(`${run}: train ${row.trainEventsPerSecond.toFixed(0)} ev/s, serve ${row.serveEventsPerSecond.toFixed(0)} ev/s, HR@20 ${row.hr20.toFixed(4)} (load ${loadBefore} → ${row.loadAfter})`);
}
const table = ['| model | backend | training events/s | serving events/s | HR@20 | MRR@20 | final loss | load (1-min, start → end) |', '|---|---|---:|---:|---:|---:|---:|---|'];
for (const r of rows) {
  if (r.failed) { table.push(`| ${r.run} | failed | | | | | | |`); continue; }
  const backend = r.backend === 'wasm' ? `wasm (${r.workers === 1 ? 'one thread' : `${r.workers} workers`})` : `tensorflow (${machine.cores} cores${r.workers === 1 ? '' : `, ${r.workers} workers`})`;
  table.push(`| ${r.model} | ${backend} | ${r.trainEventsPerSecond.toFixed(0)} | ${r.serveEventsPerSecond.toFixed(0)} | ${r.hr20.toFixed(4)} | ${r.mrr20.toFixed(4)} | ${r.finalLoss.toFixed(4)} | ${r.loadBefore} → ${r.loadAfter} |`);
}
console.log(table.join('\n'));
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/tensorflow.json', JSON.stringify({ machine, sessions, items, epochs, seed, configs, rows, finished: new Date().toISOString() }, null, 2));
process.exit(rows.some((r) => r.failed) ? 1 : 0);
