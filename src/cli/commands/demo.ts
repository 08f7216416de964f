import { buildCorpus } from '../../baselines/corpus.js';
import { evaluateReplay, type EvaluationResult } from '../../eval/replay-evaluator.js';
import { formatComparison } from '../../eval/report.js';
import { generateSessions, sessionsToEvents } from '../../synthetic/generator.js';
import { numberOption, type CliCommand } from '../command.js';
import { demoModels, loadModelPackages } from '../trainers.js';
import { parseCutoffs } from './evaluate.js';

export const command: CliCommand = {
  name: 'demo',
  summary: 'generate a synthetic log, train the models, replay and print metrics (no files, no Kafka)',
  usage: `
nextclick demo [--sessions N] [--items N] [--seed N] [--k LIST] [--json]

Generates a synthetic click log (second-order Markov process over latent intents, Zipf popularity),
trains every available model on its earlier 80%, replays the rest event by event through the same
pipeline the stream uses, and prints HR/MRR/NDCG@K, coverage, popularity and events/s per model.

  --sessions N   sessions generated (default 6000)
  --items N      catalog size (default 1000)
  --seed N       PRNG seed (default 42)
  --k LIST       cut-offs (default 1,5,10,20); the table shows the largest
  --json         print the results as one JSON object
`,
  options: {
    sessions: { type: 'string' },
    items: { type: 'string' },
    seed: { type: 'string' },
    k: { type: 'string' },
  },
  async run(values, io) {
    const json = values['json'] === true;
    const isInt = (n: number) => Number.isInteger(n) && n > 0;
    const seed = numberOption(values, 'seed', 42, Number.isInteger);
    const log = generateSessions({ sessions: numberOption(values, 'sessions', 6000, isInt), items: numberOption(values, 'items', 1000, isInt), seed });
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
        trained = await m.train(corpus, { quick: true, seed });
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
    else io.stdout.write(`\n${formatComparison(results, k)}`);
    return 0;
  },
};
