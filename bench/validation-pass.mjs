// Does one pass over the validation sessions after early stopping (`trainOnValidation=true`) help on data that
// follows them in time? Measured without the test log: the newest sessions of the training log are held out as
// a pseudo-test (as many as `train`'s own hold-out: at most 5 %, at most 20,000 predictions), the model trains on
// the rest with its usual hold-out and early stopping, and both the best epoch's weights (without the pass) and
// the final ones (with it) are scored on the pseudo-test: one training gives the paired comparison.
//
//   npm run build && node bench/validation-pass.mjs yoochoose|diginetica gru4rec|transformer [key=value ...]
//
// Prints one JSON line: the pseudo-test HR@20 / MRR@20 with and without the pass, and the validation of the best epoch.
import { readSessions } from '../dist/src/data/index.js';
import { buildCorpus } from '../dist/src/baselines/corpus.js';
import { splitValidation } from '../dist/src/data/validation-split.js';
import { evaluateNextItem } from '../dist/src/eval/next-item-accuracy.js';
import { parseConfigParams } from '../dist/models/training/config-fields.js';

const logs = {
  yoochoose: { path: '../shared/data/yoochoose-100k/train.tsv', format: 'tsv' },
  diginetica: { path: '../shared/data/diginetica/train_sessions.txt', format: 'srgnn' },
};
const [logName, model, ...params] = process.argv.slice(2);
const log = logs[logName];
if (!log || !['gru4rec', 'transformer'].includes(model)) {
  console.error('usage: node bench/validation-pass.mjs yoochoose|diginetica gru4rec|transformer [key=value ...]');
  process.exit(2);
}
const config = { ...parseConfigParams(params), trainOnValidation: true };
const corpus = await buildCorpus(readSessions(log.path, { format: log.format }));
const { train, validation: pseudoTest } = splitValidation(corpus, 0.05, 20000);
const trainData = { ...corpus, offsets: train.offsets, items: train.items, ...(corpus.times ? { times: corpus.times.subarray(0, train.items.length) } : {}) };

// Every epoch's weights; the trainer's bestEpoch then names the model as it would be without the pass.
const snapshots = new Map();
const keep = (m, named) => { snapshots.set(m.epoch, new Map(named.map((w) => [w.name, { shape: w.shape, values: w.values.slice() }]))); };
const t0 = performance.now();
let withPass, without, result;
if (model === 'transformer') {
  const { trainTransformer } = await import('../dist/models/transformer/train.js');
  const { TransformerParams } = await import('../dist/models/transformer/params.js');
  const { TransformerScorer } = await import('../dist/models/transformer/scorer.js');
  result = await trainTransformer(trainData, { config, progress: true, onEpoch: (m, p) => { keep(m, p.named()); return 'continue'; } });
  const before = TransformerParams.fromNamed(result.config, result.vocabulary.size, snapshots.get(result.bestEpoch));
  before.transitions = result.params.transitions;
  const score = async (p) => { const s = new TransformerScorer(p); try { return await evaluateNextItem(s, pseudoTest, {}); } finally { s.dispose(); } };
  without = await score(before);
  withPass = await score(result.params);
} else {
  const { trainGru4Rec } = await import('../dist/models/gru4rec/train.js');
  const { Gru4RecParams } = await import('../dist/models/gru4rec/params.js');
  const { Gru4RecScorer } = await import('../dist/models/gru4rec/scorer.js');
  result = await trainGru4Rec(trainData, { config, progress: true, onEpoch: (m, p) => { keep(m, p.named()); return 'continue'; } });
  const before = Gru4RecParams.fromNamed(result.config, result.vocabulary.size, snapshots.get(result.bestEpoch));
  const score = async (p) => { const s = new Gru4RecScorer(p); try { return await evaluateNextItem(s, pseudoTest, {}); } finally { s.dispose(); } };
  without = await score(before);
  withPass = await score(result.params);
}
const best = result.epochs.find((e) => e.epoch === result.bestEpoch);
const r4 = (x) => Math.round(x * 1e4) / 1e4;
console.log(JSON.stringify({
  log: logName, model, params, seconds: Math.round((performance.now() - t0) / 1000), epochs: result.epochs.length, bestEpoch: result.bestEpoch,
  validation: best?.validation ? { recall: r4(best.validation.recall), mrr: r4(best.validation.mrr) } : null,
  pass: result.validationPass ?? null,
  pseudoTestPredictions: without.predictions,
  withoutPass: { recall: r4(without.recall), mrr: r4(without.mrr) },
  withPass: { recall: r4(withPass.recall), mrr: r4(withPass.mrr) },
}));
