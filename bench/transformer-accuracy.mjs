// Transformer / BST ranker accuracy on Diginetica (SR-GNN split): see bench/transformer.md for commands and results.
// usage (after npm run build):
//   node bench/transformer-accuracy.mjs transformer [key=value ...] --out DIR          train, save, test
//     [--skip-test]          train only (speed probes: the progress lines give events/s)
//     [--init DIR --continue-from N]  warm start from a saved transformer trained N epochs (decay continues)
//   node bench/transformer-accuracy.mjs ranker --model FIRST_DIR [key=value ...] --out DIR   train the BST ranker over a first stage
//     (hard negatives from its top M; item embedding initialised from it when hiddenSize matches)
//   node bench/transformer-accuracy.mjs eval --model DIR [--ranker DIR] [--top-m 100] [--weight 0] [--max-test N]
//     [--by-length]          also P@20 / MRR@20 per prefix length (1, 2-3, 4-9, 10-15, 16-20, 21+)
//     [--ensemble DIR2]      score with the mean of both models' log-softmax rows (an ensemble; not a single model)
//     [--ranks FILE]         also write the target's rank per prediction, one per line (0 = target unknown to training),
//                            for bench/paired-bootstrap.mjs
// Test protocol of the papers: all 60,858 prefixes of test_prefix_target.tsv, full ranking of the 43,097 training
// items, P@20 (= HR@20) and MRR@20, conservative ties; targets unknown to training count as misses.
import { readFileSync, writeFileSync } from 'node:fs';
const args = process.argv.slice(2);
const mode = args.shift();
const flag = (name) => { const i = args.indexOf(name); if (i < 0) return undefined; const v = args[i + 1]; args.splice(i, 2); return v; };
/** A flag without a value: true when present (and removed from args). */
const switchFlag = (name) => { const i = args.indexOf(name); if (i >= 0) args.splice(i, 1); return i >= 0; };
const dist = flag('--dist') ?? '../dist';
const outDir = flag('--out');
const modelDir = flag('--model');
const rankerDir = flag('--ranker');
const topM = Number(flag('--top-m') ?? 100);
const weight = Number(flag('--weight') ?? 0);
const maxTest = Number(flag('--max-test') ?? Infinity);
const byLength = switchFlag('--by-length');
const ensembleDir = flag('--ensemble');
const ranksFile = flag('--ranks');
const skipTest = switchFlag('--skip-test');
const initDir = flag('--init');
const continueFrom = Number(flag('--continue-from') ?? 0);
const data = flag('--data') ?? '../shared/data/diginetica';
const { ItemVocabulary } = await import(`${dist}/src/vocab/item-vocabulary.js`);
const { newSessionState } = await import(`${dist}/src/sessions/session-state.js`);
const { rankOf } = await import(`${dist}/src/scoring/top-k.js`);
const T = await import(`${dist}/models/transformer/index.js`);

function loadTrain() {
  const sessions = readFileSync(`${data}/train_sessions.txt`, 'utf8').split('\n').filter((l) => l.trim()).map((l) => l.trim().split(/\s+/));
  const counts = new Map();
  for (const s of sessions) for (const id of s) counts.set(id, (counts.get(id) ?? 0) + 1);
  const vocabulary = ItemVocabulary.fromCounts(counts);
  const offsets = new Int32Array(sessions.length + 1);
  const flat = [];
  sessions.forEach((s, i) => { for (const id of s) flat.push(vocabulary.indexOf(id)); offsets[i + 1] = flat.length; });
  console.log(`train: ${sessions.length} sessions, ${flat.length} events, ${vocabulary.size} items`);
  return { vocabulary, offsets, items: Int32Array.from(flat) };
}

/** Log-softmax of each row in place (so two models' rows can be averaged as log-probabilities). */
function logSoftmaxRows(scores, rows, N) {
  for (let r = 0; r < rows; r++) {
    const o = r * N;
    let max = -Infinity;
    for (let i = 0; i < N; i++) if (scores[o + i] > max) max = scores[o + i];
    let z = 0;
    for (let i = 0; i < N; i++) z += Math.exp(scores[o + i] - max);
    const lse = max + Math.log(z);
    for (let i = 0; i < N; i++) scores[o + i] -= lse;
  }
}

async function evaluate(scorer, vocabulary, label, second) {
  const test = readFileSync(`${data}/test_prefix_target.tsv`, 'utf8').split('\n').filter((l) => l.trim()).map((l) => { const [p, t] = l.split('\t'); return { prefix: p.trim().split(/\s+/), target: t.trim() }; }).slice(0, maxTest);
  const N = scorer.itemCount;
  const buckets = [[1, 1], [2, 3], [4, 9], [10, 15], [16, 20], [21, Infinity]].map(([lo, hi]) => ({ lo, hi, n: 0, hits: 0, rr: 0 }));
  let hits = 0, rr = 0, n = 0;
  const ranks = [];
  const t0 = performance.now();
  const statesOf = (chunk) => chunk.map((c, i) => { const st = newSessionState(String(i), 0, 0); for (const id of c.prefix) { const ix = vocabulary.indexOf(id); if (ix >= 0) st.items.push(ix); } return st; });
  for (let start = 0; start < test.length; start += 256) {
    const chunk = test.slice(start, start + 256);
    const states = statesOf(chunk);
    await scorer.observe(states);
    let scores = await scorer.score(states);
    if (second) {
      scores = Float32Array.from(scores);
      const other = statesOf(chunk);
      await second.observe(other);
      const s2 = Float32Array.from(await second.score(other));
      logSoftmaxRows(scores, chunk.length, N);
      logSoftmaxRows(s2, chunk.length, N);
      for (let i = 0; i < scores.length; i++) scores[i] = (scores[i] + s2[i]) / 2;
    }
    chunk.forEach((c, k) => {
      n++;
      const b = buckets.find((x) => c.prefix.length >= x.lo && c.prefix.length <= x.hi);
      b.n++;
      const target = vocabulary.indexOf(c.target);
      if (target < 0) { ranks.push(0); return; }
      const rank = rankOf(scores, target, 'conservative', k * N, N);
      ranks.push(rank);
      if (rank <= 20) { hits++; rr += 1 / rank; b.hits++; b.rr += 1 / rank; }
    });
  }
  console.log(`TEST ${label}: P@20 ${(hits / n).toFixed(4)} MRR@20 ${(rr / n).toFixed(4)} over ${n} predictions (full ranking of ${N} items, conservative ties), eval ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  if (ranksFile) writeFileSync(ranksFile, ranks.join('\n') + '\n');
  if (byLength) for (const b of buckets) console.log(`  prefix length ${b.lo}${b.hi === b.lo ? '' : b.hi === Infinity ? '+' : `-${b.hi}`}: ${b.n} predictions, P@20 ${(b.hits / Math.max(1, b.n)).toFixed(4)} MRR@20 ${(b.rr / Math.max(1, b.n)).toFixed(4)}`);
}

if (mode === 'transformer') {
  const d = loadTrain();
  const config = T.parseTransformerParams(args);
  console.log(`config ${JSON.stringify(T.resolveTransformerConfig(config))}`);
  const init = initDir ? (await T.readTransformer(initDir)).params : undefined;
  if (init) console.log(`warm start from ${initDir}, learning-rate decay continuing after epoch ${continueFrom}`);
  const r = await T.trainTransformer(d, { config, progress: true, ...(init ? { initialWeights: init, continueFromEpoch: continueFrom } : {}), onEpoch: async (m, params) => { if (outDir) await T.saveTransformer(`${outDir}/checkpoint-e${m.epoch}`, { params, config: params.config, vocabulary: d.vocabulary, metrics: { ...m } }); } });
  console.log(`trained in ${r.trainSeconds.toFixed(0)} s on ${r.backend}; epochs ${r.epochs.length}, best ${r.bestEpoch}`);
  if (outDir) await T.saveTransformer(outDir, { ...r, metrics: { trainSeconds: r.trainSeconds, epochs: r.epochs, bestEpoch: r.bestEpoch } });
  if (!skipTest) await evaluate(new T.TransformerScorer(r.params), d.vocabulary, 'transformer');
} else if (mode === 'ranker') {
  const d = loadTrain();
  const config = T.resolveBstRankerConfig(T.parseBstRankerParams(Object.fromEntries(args.map((a) => a.split('=')))));
  console.log(`config ${JSON.stringify(config)}`);
  let first;
  if (modelDir) {
    const { loadModel } = await import(`${dist}/src/scoring/model-registry.js`);
    await import(`${dist}/models/index.js`);
    first = await loadModel(modelDir);
    if (first.vocabulary.size !== d.vocabulary.size) throw new Error('first stage vocabulary differs from the training vocabulary');
  }
  const table = first ? T.firstStageItemTable(first.scorer) : undefined;
  const init = table && table.length === d.vocabulary.size * config.hiddenSize ? { initItemTable: table } : {};
  console.log(`first stage ${modelDir ?? 'none'}; item embedding ${init.initItemTable ? 'initialised from it' : 'random'}`);
  const r = await T.trainBstRanker(d, { config, progress: true, ...(first ? { candidates: first.scorer } : {}), ...init });
  console.log(`ranker trained in ${r.trainSeconds.toFixed(0)} s: ${JSON.stringify(r.epochs)}`);
  if (outDir) await T.saveBstRanker(outDir, { params: r.params, vocabulary: d.vocabulary, candidatesDir: modelDir ?? '.', metrics: { trainSeconds: r.trainSeconds, epochs: r.epochs } });
} else if (mode === 'eval') {
  const { selectBackend } = await import(`${dist}/src/backend/select-backend.js`);
  const { loadModel } = await import(`${dist}/src/scoring/model-registry.js`);
  await import(`${dist}/models/index.js`);
  await selectBackend();
  const first = await loadModel(modelDir);
  if (ensembleDir) {
    const other = await loadModel(ensembleDir);
    if (other.vocabulary.size !== first.vocabulary.size) throw new Error('--ensemble: the two models have different vocabularies');
    await evaluate(first.scorer, first.vocabulary, `ensemble of ${first.manifest.kind} and ${other.manifest.kind} (mean log-softmax)`, other.scorer);
  } else if (!rankerDir) await evaluate(first.scorer, first.vocabulary, first.manifest.kind);
  else {
    const rk = await T.readBstRanker(rankerDir);
    const two = new T.TwoStageScorer(first.scorer, new T.BstRanker(rk.params), { topM, candidateWeight: weight });
    await evaluate(two, first.vocabulary, `${first.manifest.kind} + bst-ranker (top ${topM}, candidateWeight ${weight})`);
  }
} else {
  console.error('usage: transformer-accuracy.mjs transformer|ranker|eval ...');
  process.exit(2);
}
