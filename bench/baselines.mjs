// Accuracy and throughput of the baselines on the shared benchmark data, through `nextclick evaluate --json`
// (the replay evaluator drives ClickPipeline event by event; every next-item prediction, all items ranked).
//
//   npm run build && nice node bench/baselines.mjs [yoochoose|diginetica ...]
//
// Prints one JSON line per run and a markdown table at the end (copied into bench/baselines.md).
import { existsSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { main } from '../dist/src/cli/main.js';

const datasets = {
  yoochoose: { train: '../shared/data/yoochoose-100k/train.tsv', test: '../shared/data/yoochoose-100k/test.tsv', format: 'tsv', expected: 10_152 },
  diginetica: { train: '../shared/data/diginetica/train_sessions.txt', test: '../shared/data/diginetica/test_sessions.txt', format: 'srgnn', expected: 60_858, prefixes: '../shared/data/diginetica/test_prefix_target.tsv' },
};
const runs = [
  { model: 'pop', params: [] },
  { model: 'itemknn', params: [] },
  { model: 'sr', params: [] },
  { model: 'sr', params: ['contextWeight=0'], label: 'sr (classic: contextWeight=0)' },
  { model: 'sr', params: ['contextWeight=0', 'popularityFallback=false'], label: 'sr (classic, no popularity fallback)' },
  { model: 'vsknn', params: [] },
];

async function evaluate(ds, run) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += String(d)));
  const args = ['evaluate', '--model', run.model, '--train', ds.train, '--test', ds.test, '--format', ds.format, '--json', ...run.params.flatMap((p) => ['--param', p])];
  const code = await main(args, { stdout: out, stderr: process.stderr });
  if (code !== 0) throw new Error(`nextclick ${args.join(' ')} exited ${code}: ${text}`);
  return { command: `nextclick ${args.join(' ')}`, result: JSON.parse(text) };
}

/** Checks the diginetica protocol: our (prefix, target) pairs from test_sessions.txt equal test_prefix_target.tsv. */
function checkPrefixes(ds) {
  const fileLines = readFileSync(ds.prefixes, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const ours = [];
  for (const line of readFileSync(ds.test, 'utf8').split('\n')) {
    const items = line.trim().split(/\s+/).filter(Boolean);
    for (let i = 1; i < items.length; i++) ours.push(`${items.slice(0, i).join(' ')}\t${items[i]}`);
  }
  const a = [...fileLines].sort();
  const b = [...ours].sort();
  const same = a.length === b.length && a.every((x, i) => x === b[i]);
  return { prefixFileLines: fileLines.length, pairsFromSessions: ours.length, identicalMultiset: same };
}

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(datasets);
const rows = [];
for (const name of wanted) {
  const ds = datasets[name];
  if (!ds) throw new Error(`unknown dataset ${name}`);
  if (!existsSync(ds.train)) { console.error(`skipping ${name}: ${ds.train} is absent`); continue; }
  if (ds.prefixes) console.log(JSON.stringify({ dataset: name, check: checkPrefixes(ds) }));
  for (const run of runs) {
    const { command, result: r } = await evaluate(ds, run);
    const at = (k) => r.cutoffs.find((c) => c.k === k);
    if (r.predictions !== ds.expected) throw new Error(`${name}: ${r.predictions} predictions, expected ${ds.expected}`);
    const row = {
      dataset: name, model: run.label ?? run.model, command, predictions: r.predictions,
      hr20: at(20).hitRate, mrr20: at(20).mrr, ndcg20: at(20).ndcg, hr10: at(10).hitRate, mrr10: at(10).mrr, hr5: at(5).hitRate,
      cov20: at(20).coverage, popPct: r.averagePopularityPercentile, trainSeconds: r.trainSeconds, replaySeconds: r.seconds, eventsPerSecond: r.eventsPerSecond,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
const f = (x) => x.toFixed(4);
console.log('\n| dataset | model | preds | HR@20 | MRR@20 | NDCG@20 | HR@10 | MRR@10 | HR@5 | Cov@20 | Pop %ile | train s | replay s | events/s |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.dataset} | ${r.model} | ${r.predictions} | ${f(r.hr20)} | ${f(r.mrr20)} | ${f(r.ndcg20)} | ${f(r.hr10)} | ${f(r.mrr10)} | ${f(r.hr5)} | ${f(r.cov20)} | ${r.popPct.toFixed(3)} | ${r.trainSeconds.toFixed(1)} | ${r.replaySeconds.toFixed(1)} | ${Math.round(r.eventsPerSecond)} |`);
}
