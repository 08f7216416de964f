import { buildCorpus } from '../../baselines/corpus.js';
import { evaluateReplay, type EvaluationResult } from '../../eval/replay-evaluator.js';
import { formatComparison } from '../../eval/report.js';
import { generateSessions, sessionsToEvents } from '../../synthetic/generator.js';
import { numberOption, type CliCommand } from '../command.js';
import { demoModels, loadModelPackages } from '../trainers.js';
import { parseCutoffs } from './evaluate.js';

const usage = `
nextclick demo [--sessions N] [--items N] [--seed N] [--k LIST] [--json]

Generates a synthetic click log (second-order Markov process over latent intents, Zipf popularity),
trains every available model on its earlier 80%, replays the rest event by event through the same
pipeline the stream uses, and prints HR/MRR/NDCG@K, coverage, popularity and events/s per model.
On a terminal, the neural models show a progress bar and a line per epoch while they train.

  --sessions N   sessions generated, an integer ≥ 1 (default 6000)
  --items N      catalog size, an integer ≥ 1 (default 1000)
  --seed N       PRNG seed, an integer (default 42)
  --k LIST       cut-offs (default 1,5,10,20); the table shows the largest
  --json         print the results as one JSON object
`;

/** Plain-words meaning of the comparison table's columns at cut-off `k`, printed under it. */
export function explainColumns(k: number): string {
  return [
    `  HR@${k}     hit rate: how often the item clicked next is among the ${k} recommended (higher is better)`,
    `  MRR@${k}    mean reciprocal rank: like HR@${k}, but a hit at rank r counts 1/r, so rank 1 is worth most`,
    `  NDCG@${k}   like MRR@${k} with a gentler, logarithmic discount of lower ranks`,
    `  Cov@${k}    coverage: share of the catalog that appears in at least one top-${k} list (variety)`,
    '  Pop%ile   mean popularity percentile of recommended items: 1 = only the most clicked items,',
    '            0.5 = as popular as a typical item; high values mean a bias towards popular items',
    '  preds     next-item predictions scored (the same for every model); events/s: replay throughput',
  ].join('\n') + '\n';
}

export const command: CliCommand = {
  name: 'demo',
  summary: 'generate a synthetic log, train the models, replay and print metrics (no files, no Kafka)',
  usage,
  async help() {
    const failure = await loadModelPackages();
    return `${usage}\nModels it trains: ${demoModels.map((m) => m.label).join(', ')}${failure !== undefined ? ` (neural models unavailable: ${failure})` : ''}\n`;
  },
  options: {
    sessions: { type: 'string' },
    items: { type: 'string' },
    seed: { type: 'string' },
    k: { type: 'string' },
  },
  async run(values, io) {
    const json = values['json'] === true;
    const isInt = (n: number) => Number.isInteger(n) && n > 0;
    const seed = numberOption(values, 'seed', 42, Number.isSafeInteger, 'an integer');
    const sessions = numberOption(values, 'sessions', 6000, isInt, 'a whole number of sessions ≥ 1');
    const items = numberOption(values, 'items', 1000, isInt, 'a catalog size ≥ 1');
    const log = generateSessions({ sessions, items, seed });
    // Training progress only where someone watches: a terminal, and not with --json.
    const progressStream = !json && io.stderr.isTTY ? io.stderr : undefined;
    const cutoffs = parseCutoffs(typeof values['k'] === 'string' ? values['k'] : undefined);
    const corpus = await buildCorpus(log.train);
    const testEvents = sessionsToEvents(log.test);
    if (!json) io.stdout.write(`synthetic log: ${log.train.length} training sessions (${corpus.items.length} events), ${log.test.length} test sessions (${testEvents.length} events), ${corpus.vocabulary.size} items, seed ${seed}\n`);
    const results: EvaluationResult[] = [];
    const failures: { model: string; error: string }[] = [];
    const packageFailure = await loadModelPackages();
    if (packageFailure !== undefined) {
      failures.push({ model: 'models/', error: packageFailure });
      if (!json) io.stderr.write(`demo: ${packageFailure}\n`);
    }
    for (const m of demoModels) {
      let trained;
      const t0 = performance.now();
      try {
        trained = await m.train(corpus, { quick: true, seed, ...(progressStream ? { progressStream } : {}) });
      } catch (err) {
        // A model whose backend is missing (e.g. no TensorFlow.js here) is reported, not fatal.
        failures.push({ model: m.label, error: (err as Error).message });
        if (!json) io.stderr.write(`demo: skipped ${m.label}: ${(err as Error).message}\n`);
        continue;
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      try {
        const r = await evaluateReplay(trained.scorer, trained.vocabulary, testEvents, { cutoffs, label: m.label, popularity: corpus.itemCounts, totalEvents: testEvents.length });
        results.push(r);
        if (!json) io.stdout.write(`  ${m.label}: trained in ${trainSeconds.toFixed(1)} s, replayed ${r.events} events at ${Math.round(r.eventsPerSecond)} events/s\n`);
      } finally {
        await trained.scorer.dispose?.();
      }
    }
    const k = Math.max(...cutoffs);
    if (json) io.stdout.write(JSON.stringify({ ok: true, seed, trainSessions: log.train.length, testSessions: log.test.length, items: corpus.vocabulary.size, results, failures }) + '\n');
    else io.stdout.write(`\n${formatComparison(results, k)}\n${explainColumns(k)}`);
    return 0;
  },
};
