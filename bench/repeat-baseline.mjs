// The "session's own items, newest first" baseline on the validation split `nextclick train` carves (the newest
// validationFraction of the training sessions, at most validationMaxEvents predictions), to set the neural
// models' validation figures in docs/experiments/repeat-aware.md beside it. Items not in the session follow by
// popularity in the training part.
//   node bench/repeat-baseline.mjs --train FILE [--format tsv|srgnn|...] [--fraction 0.05] [--max 20000]
import { parseArgs } from 'node:util';
import { buildCorpus } from '../dist/src/baselines/corpus.js';
import { readSessions } from '../dist/src/data/index.js';
import { evaluateNextItem } from '../dist/models/training/evaluate-next-item.js';
import { splitValidation } from '../dist/models/gru4rec/train.js';

const { values } = parseArgs({ options: { train: { type: 'string' }, format: { type: 'string', default: 'tsv' }, fraction: { type: 'string', default: '0.05' }, max: { type: 'string', default: '20000' } } });
const corpus = await buildCorpus(readSessions(values.train, { format: values.format }));
const { train, validation } = splitValidation(corpus, Number(values.fraction));
const N = corpus.vocabulary.size;
const popularity = new Float32Array(N);
for (const it of train.items) popularity[it]++;
let max = 1;
for (const c of popularity) max = Math.max(max, c);
const recency = {
  name: 'recency', itemCount: N,
  observe() {},
  score(sessions) {
    const rows = new Float32Array(sessions.length * N);
    sessions.forEach((s, i) => {
      for (let j = 0; j < N; j++) rows[i * N + j] = popularity[j] / max; // in [0, 1]
      // Newest first: the item at distance d scores 2 + 1/(1 + d) of its latest occurrence.
      for (let d = s.items.length - 1; d >= 0; d--) rows[i * N + s.items[s.items.length - 1 - d]] = 2 + 1 / (1 + d);
    });
    return rows;
  },
};
const m = await evaluateNextItem(recency, validation, { maxPredictions: Number(values.max) });
console.log(JSON.stringify({ train: values.train, validationSessions: validation.offsets.length - 1, recall20: m.recall, mrr20: m.mrr, predictions: m.predictions }));
