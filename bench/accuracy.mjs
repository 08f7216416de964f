// Accuracy of any model through the CLI path alone: `nextclick train` (validation split carved from the newest
// training sessions, used for early stopping and reported), then `nextclick evaluate` on the test log, once.
// Every accuracy figure in BENCHMARKS.md comes from this script or from `nextclick evaluate` directly.
//
//   npm run build && nice node bench/accuracy.mjs LOG MODEL --out DIR [--from DIR] [key=value ...] [--jsonl FILE]
//
// LOG: yoochoose | diginetica | otto. MODEL: gru4rec | transformer | sr | vsknn | itemknn | pop.
// key=value pairs are passed as `--param key=value`. Prints the two commands, one JSON line with the
// validation and test figures (appended to --jsonl FILE when given) and a markdown table row.
import { appendFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { main } from '../dist/src/cli/main.js';

const logs = {
  yoochoose: { train: '../shared/data/yoochoose-100k/train.tsv', test: '../shared/data/yoochoose-100k/test.tsv', format: 'tsv' },
  diginetica: { train: '../shared/data/diginetica/train_sessions.txt', test: '../shared/data/diginetica/test_sessions.txt', format: 'srgnn' },
  // The OTTO sample (20 long sessions) has no next-item test log: `nextclick prepare` splits it by time
  // (30-minute idle gap, last day = test, every item kept). Sanity figures only: its test set has 19 events.
  otto: { raw: '../shared/data/otto-sample/train.jsonl', rawFormat: 'otto', prepareArgs: ['--min-item-support', '1'], format: 'tsv' },
};
const trained = new Set(['gru4rec', 'transformer', 'sr', 'vsknn', 'itemknn', 'pop']);

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const out = flag('--out');
const from = flag('--from');
const jsonl = flag('--jsonl');
const [logName, model, ...params] = args;
const log = logs[logName];
if (!log || !trained.has(model) || !out || params.some((p) => !p.includes('='))) {
  console.error('usage: node bench/accuracy.mjs yoochoose|diginetica|otto MODEL --out DIR [--from DIR] [--jsonl FILE] [key=value ...]');
  process.exit(2);
}

async function run(argv) {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d) => (text += String(d)));
  const code = await main(argv, { stdout, stderr: process.stderr });
  const command = `nextclick ${argv.join(' ')}`;
  if (code !== 0) throw new Error(`${command} exited ${code}: ${text}`);
  console.error(`$ ${command}`);
  return { command, result: JSON.parse(text) };
}

let prepareCommand = null;
if (log.raw) {
  const dir = `${out}-data`;
  ({ command: prepareCommand } = await run(['prepare', '--input', log.raw, '--format', log.rawFormat, '--out', dir, '--force', ...log.prepareArgs, '--json']));
  log.train = `${dir}/train.tsv`;
  log.test = `${dir}/test.tsv`;
}
const paramArgs = params.flatMap((p) => ['--param', p]);
const train = await run(['train', '--model', model, '--train', log.train, '--format', log.format, '--out', out, '--force', ...(from ? ['--from', from] : []), ...paramArgs, '--json']);
const evaluate = await run(['evaluate', '--model', out, '--train', log.train, '--test', log.test, '--format', log.format, '--quiet', '--json']);
const at = (k) => evaluate.result.cutoffs.find((c) => c.k === k);
const m = train.result.metrics ?? {};
const row = {
  log: logName, model, params, from: from ?? null,
  ...(prepareCommand ? { prepareCommand } : {}), trainCommand: train.command, evaluateCommand: evaluate.command,
  trainSeconds: train.result.seconds, backend: m.backend ?? null, epochs: m.epochsRun ?? null, bestEpoch: m.bestEpoch ?? null,
  validationRecall20: m.validationRecall20 ?? null, validationMrr20: m.validationMrr20 ?? null,
  predictions: evaluate.result.predictions, hr20: at(20).hitRate, mrr20: at(20).mrr, ndcg20: at(20).ndcg,
  when: new Date().toISOString(),
};
console.log(JSON.stringify(row));
if (jsonl) appendFileSync(jsonl, JSON.stringify(row) + '\n');
const f = (x) => (x === null || x === undefined ? '—' : x.toFixed(4));
console.log(`| ${model} ${params.join(' ')} | ${f(row.validationRecall20)} / ${f(row.validationMrr20)} | ${f(row.hr20)} | ${f(row.mrr20)} | ${Math.round(row.trainSeconds)} s |`);
