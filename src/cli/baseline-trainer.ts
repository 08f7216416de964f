import { buildCorpus, sessionCount } from '../baselines/corpus.js';
import { baselineDefaults, trainBaseline, type BaselineKind } from '../baselines/index.js';
import { InvalidOptionError } from '../errors.js';
import { readSessions } from '../data/index.js';
import type { ModelTrainer } from './trainers.js';

/** `nextclick train` for a baseline: read sessions, build the corpus, fit, save. */
export function baselineTrainer(kind: BaselineKind): ModelTrainer {
  const defaults = baselineDefaults(kind);
  return {
    kind,
    describe: `${kind} baseline; params: ${Object.entries(defaults).map(([k, v]) => `${k}=${String(v)}`).join(' ') || 'none'}`,
    async train(req) {
      if (req.fromDir !== undefined) throw new InvalidOptionError('from', `--from is not supported by the ${kind} baseline (it trains in seconds; train it again)`);
      const t0 = performance.now();
      const corpus = await buildCorpus(readSessions(req.trainPath, req.readOptions));
      const model = trainBaseline(kind, corpus, req.params);
      const seconds = (performance.now() - t0) / 1000;
      const metrics = { trainSeconds: seconds, sessions: sessionCount(corpus), events: corpus.items.length };
      await model.save(req.outDir, { metrics });
      return { kind, outDir: req.outDir, itemCount: model.itemCount, sessions: sessionCount(corpus), seconds, metrics };
    },
  };
}
