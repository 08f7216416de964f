/**
 * What `nextclick tune` searches for each model kind: the parameters that mattered in the models' own tuning
 * (GRU4Rec's published per-dataset parameter files, the transformer recipes, the baselines' knobs), as ranges
 * around the defaults. The first trial of a kind is always its defaults.
 */
import type { SearchSpace } from '../tuning/search-space.js';

/** A kind `tune` can search. */
export interface TunableKind {
  readonly space: SearchSpace;
  /** Trained epoch by epoch with per-epoch validation (successive halving applies). */
  readonly epochs: boolean;
  /**
   * The kind's parameter that ends training mid-epoch after that many seconds, set to the budget left (an epoch
   * of a big log can take minutes). Without one a trial stops at epoch ends only.
   */
  readonly timeLimitParam?: string;
  /** The kind's default epoch count (the most a trial trains). */
  readonly defaultEpochs?: number;
  /** Notes shown next to parameters in `--help`. */
  readonly notes?: Readonly<Record<string, string>>;
}

const bprMax = (p: Readonly<Record<string, unknown>>) => p['loss'] === 'bpr-max';
const crossEntropy = (p: Readonly<Record<string, unknown>>) => p['loss'] === 'cross-entropy';

export const tunableKinds: Readonly<Record<string, TunableKind>> = {
  sr: {
    epochs: false,
    space: {
      steps: { type: 'int', min: 1, max: 15 },
      weighting: { type: 'choice', values: ['div', 'linear', 'same'] },
      contextWeight: { type: 'float', min: 0, max: 1 },
      contextItems: { type: 'int', min: 1, max: 6 },
      selfRules: { type: 'choice', values: [true, false] },
    },
  },
  vsknn: {
    epochs: false,
    space: {
      variant: { type: 'choice', values: ['nextclick', 'session-rec'] },
      k: { type: 'choice', values: [50, 100, 200, 500, 1000] },
      sampleSize: { type: 'choice', values: [500, 1000, 2500, 5000, 10000] },
      weighting: { type: 'choice', values: ['div', 'linear', 'log', 'same'], when: (p) => p['variant'] === 'nextclick' },
      scoreWeighting: { type: 'choice', values: ['div', 'linear', 'log', 'same'] },
      idf: { type: 'choice', values: [true, false] },
    },
    notes: { weighting: 'variant nextclick only' },
  },
  gru4rec: {
    epochs: true,
    timeLimitParam: 'maxSeconds',
    defaultEpochs: 10,
    space: {
      loss: { type: 'choice', values: ['bpr-max', 'cross-entropy'] },
      layers: { type: 'choice', values: [64, 96, 128, 192, 256, 384] },
      learningRate: { type: 'float', min: 0.01, max: 0.3, log: true },
      momentum: { type: 'float', min: 0, max: 0.6 },
      dropoutEmbedding: { type: 'float', min: 0, max: 0.6 },
      dropoutHidden: { type: 'float', min: 0, max: 0.6 },
      batchSize: { type: 'choice', values: [32, 64, 128, 256] },
      nSample: { type: 'choice', values: [512, 1024, 2048, 4096] },
      sampleAlpha: { type: 'float', min: 0, max: 1 },
      bpreg: { type: 'float', min: 0, max: 2, when: bprMax },
      logq: { type: 'float', min: 0, max: 1, when: crossEntropy },
    },
    notes: { bpreg: 'loss bpr-max only', logq: 'loss cross-entropy only', layers: 'one GRU layer of this size' },
  },
  transformer: {
    epochs: true,
    timeLimitParam: 'maxSeconds',
    defaultEpochs: 10,
    space: {
      hiddenSize: { type: 'choice', values: [64, 128, 200, 256] },
      learningRate: { type: 'float', min: 0.0005, max: 0.01, log: true },
      learningRateDecay: { type: 'float', min: 0.6, max: 1 },
      dropoutEmbedding: { type: 'float', min: 0, max: 0.6 },
      dropoutHidden: { type: 'float', min: 0, max: 0.5 },
      nSample: { type: 'choice', values: [1024, 2048, 4096, 8192, 16384] },
      sampleAlpha: { type: 'float', min: 0, max: 1 },
      logq: { type: 'float', min: 0, max: 1 },
      cosineTemperature: { type: 'choice', values: [0.05, 0.07, 0.1, 0.2] },
      repeatBias: { type: 'choice', values: [false, true] },
      transitionPrior: { type: 'choice', values: [false, true] },
    },
  },
};

/** What `--model auto` tries, cheapest first: baselines, then the neural models. */
export const autoKinds: readonly string[] = ['sr', 'vsknn', 'gru4rec', 'transformer'];
