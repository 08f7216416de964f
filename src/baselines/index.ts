/**
 * The baseline models. Importing this module registers their loaders with the model registry, so
 * `loadModel(dir)` can open any saved baseline directory.
 */
import { InvalidOptionError } from '../errors.js';
import { registerModelKind } from '../scoring/model-registry.js';
import { parseParams, type BaselineKind, type RowScorer } from './base.js';
import type { SessionCorpus } from './corpus.js';
import { ItemKnn, itemKnnDefaults } from './item-knn.js';
import { MostPopular } from './most-popular.js';
import { SequentialRules, sequentialRulesDefaults } from './sequential-rules.js';
import { VSKnn, vsknnDefaults } from './vsknn.js';

export { MostPopular } from './most-popular.js';
export { ItemKnn, itemKnnDefaults, type ItemKnnOptions } from './item-knn.js';
export { VSKnn, vsknnDefaults, type VSKnnOptions, type VSKnnVariant, type Decay } from './vsknn.js';
export { SequentialRules, sequentialRulesDefaults, type SequentialRulesOptions, type RuleWeighting } from './sequential-rules.js';
export { buildCorpus, corpusFromDense, sessionCount, type SessionCorpus, type RawSession, type CorpusOptions } from './corpus.js';
export { RowScorer, parseParams, type BaselineKind } from './base.js';
export { NeighbourTable } from './neighbour-table.js';

/** Every baseline kind, in the order reports list them. */
export const baselineKinds: readonly BaselineKind[] = ['pop', 'itemknn', 'sr', 'vsknn'];

const paramDefaults: Record<BaselineKind, Record<string, number | boolean | string>> = {
  pop: {},
  itemknn: itemKnnDefaults,
  sr: sequentialRulesDefaults,
  vsknn: vsknnDefaults,
};

export function isBaselineKind(kind: string): kind is BaselineKind {
  return (baselineKinds as readonly string[]).includes(kind);
}

/** Default hyper-parameters of a baseline (what `--param` can override). */
export function baselineDefaults(kind: BaselineKind): Readonly<Record<string, number | boolean | string>> {
  return paramDefaults[kind];
}

/**
 * Trains a baseline on a corpus. `params` are strings as given on the command line (`--param k=200`) and are
 * typed by the defaults; unknown keys throw.
 */
export function trainBaseline(kind: string, corpus: SessionCorpus, params: Record<string, string> = {}): RowScorer {
  if (!isBaselineKind(kind)) throw new InvalidOptionError('model', `unknown baseline "${kind}"; choose one of ${baselineKinds.join(', ')}`);
  switch (kind) {
    case 'pop':
      parseParams(kind, paramDefaults.pop, params);
      return MostPopular.train(corpus);
    case 'itemknn':
      return ItemKnn.train(corpus, parseParams(kind, itemKnnDefaults, params));
    case 'sr':
      return SequentialRules.train(corpus, parseParams(kind, sequentialRulesDefaults, params));
    case 'vsknn':
      return VSKnn.train(corpus, parseParams(kind, vsknnDefaults, params));
  }
}

registerModelKind('pop', (dir, m) => MostPopular.load(dir, m));
registerModelKind('itemknn', (dir, m) => ItemKnn.load(dir, m));
registerModelKind('sr', (dir, m) => SequentialRules.load(dir, m));
registerModelKind('vsknn', (dir, m) => VSKnn.load(dir, m));
