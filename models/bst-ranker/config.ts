import { InvalidOptionError } from '../../src/errors.js';
import { mergeConfig, parseConfigParams } from '../training/config-fields.js';
import { validateOptimizerOptions, type OptimizerName } from '../training/optimizers.js';
import { resolveTransformerConfig, type TransformerConfig } from '../transformer/config.js';

/**
 * BST ranking-stage hyper-parameters. The published BST uses 8 heads, d ≈ 64 per item feature and an MLP of
 * 1024-512-256; the defaults here are smaller so it trains in minutes on a 2-core CPU.
 */
export interface BstRankerConfig {
  /** Width of the transformer block. @defaultValue 32 */
  readonly hiddenSize: number;
  /** @defaultValue 2 */
  readonly heads: number;
  /** Transformer blocks (BST: one; more were worse). @defaultValue 1 */
  readonly blocks: number;
  /** @defaultValue 64 */
  readonly feedForwardSize: number;
  /** Recent session items fed with the candidate. @defaultValue 20 */
  readonly maxLength: number;
  /** Time-gap buckets (log of the time between each event and the newest one); 0 = off. @defaultValue 12 */
  readonly timeBuckets: number;
  /** Hidden layers of the MLP on [candidate output ‖ last-item output ‖ their product]. @defaultValue [128, 64] */
  readonly mlp: readonly number[];
  /** LeakyReLU slope. @defaultValue 0.1 */
  readonly leakySlope: number;
  /** Dropout on embeddings and block outputs. @defaultValue 0.1 */
  readonly dropout: number;
  /** Sampled negatives per positive (∝ support^sampleAlpha). @defaultValue 4 */
  readonly negatives: number;
  /** @defaultValue 0.75 */
  readonly sampleAlpha: number;
  /**
   * Share of negatives drawn from the candidates model's top `hardNegativeTopM` for the prefix (when trained
   * with a candidates model): the ranker learns the order it is used for. @defaultValue 0.5
   */
  readonly hardNegativeShare: number;
  /** @defaultValue 100 */
  readonly hardNegativeTopM: number;
  /**
   * Feed the first stage's score of the candidate (minus the session's best score) to the MLP, as BST feeds
   * "other features" beside the block's output. Needs a candidates model in training and in use. @defaultValue true
   */
  readonly useCandidateScore: boolean;
  /** Session prefixes per mini-batch. @defaultValue 64 */
  readonly batchSize: number;
  /** @defaultValue 'adam' */
  readonly optimizer: OptimizerName;
  /** @defaultValue 0.002 */
  readonly learningRate: number;
  /** Passes over the (sub-sampled) prefixes. @defaultValue 1 */
  readonly epochs: number;
  /** Train on at most this many prefixes per epoch, drawn at random (0 = all). @defaultValue 200000 */
  readonly maxPrefixes: number;
  /** Stop after this many seconds (0 = no limit). @defaultValue 0 */
  readonly maxSeconds: number;
  /** @defaultValue 42 */
  readonly seed: number;
}

export const defaultBstRankerConfig = {
  hiddenSize: 32,
  heads: 2,
  blocks: 1,
  feedForwardSize: 64,
  maxLength: 20,
  timeBuckets: 12,
  mlp: [128, 64],
  leakySlope: 0.1,
  dropout: 0.1,
  negatives: 4,
  sampleAlpha: 0.75,
  hardNegativeShare: 0.5,
  hardNegativeTopM: 100,
  useCandidateScore: true,
  batchSize: 64,
  optimizer: 'adam',
  learningRate: 0.002,
  epochs: 1,
  maxPrefixes: 200000,
  maxSeconds: 0,
  seed: 42,
} as const satisfies BstRankerConfig;

export function resolveBstRankerConfig(partial: Partial<BstRankerConfig> = {}): BstRankerConfig {
  const c: BstRankerConfig = mergeConfig<BstRankerConfig>(defaultBstRankerConfig, partial, 'bst-ranker');
  const mlp = typeof c.mlp === 'number' ? [c.mlp] : c.mlp;
  if (!Array.isArray(mlp) || mlp.length === 0 || !mlp.every((n) => Number.isInteger(n) && n > 0)) throw new InvalidOptionError('mlp', 'mlp must be a non-empty list of positive layer sizes, e.g. 128,64');
  for (const k of ['negatives', 'batchSize'] as const) if (!Number.isInteger(c[k]) || c[k] < 1) throw new InvalidOptionError(k, `${k} must be an integer ≥ 1`);
  for (const k of ['epochs', 'maxPrefixes', 'maxSeconds', 'seed'] as const) if (!Number.isInteger(c[k]) || c[k] < 0) throw new InvalidOptionError(k, `${k} must be an integer ≥ 0`);
  if (typeof c.useCandidateScore !== 'boolean') throw new InvalidOptionError('useCandidateScore', 'useCandidateScore must be true or false');
  if (!(c.leakySlope >= 0 && c.leakySlope < 1)) throw new InvalidOptionError('leakySlope', 'leakySlope must be in [0, 1)');
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new InvalidOptionError('dropout', 'dropout must be in [0, 1)');
  if (!(c.hardNegativeShare >= 0 && c.hardNegativeShare <= 1)) throw new InvalidOptionError('hardNegativeShare', 'hardNegativeShare must be in [0, 1]');
  if (!Number.isInteger(c.hardNegativeTopM) || c.hardNegativeTopM < 1) throw new InvalidOptionError('hardNegativeTopM', 'hardNegativeTopM must be an integer ≥ 1');
  if (!(c.sampleAlpha >= 0 && c.sampleAlpha <= 1)) throw new InvalidOptionError('sampleAlpha', 'sampleAlpha must be in [0, 1]');
  validateOptimizerOptions({ name: c.optimizer, learningRate: c.learningRate, momentum: 0, epsilon: 1e-6, beta1: 0.9, beta2: 0.999 });
  blockConfig({ ...c, mlp });
  return { ...c, mlp: [...mlp] };
}

/**
 * The transformer-block part as a next-item transformer config: the window holds `maxLength` items plus the
 * candidate, so the block code (forward.ts, key/value reuse) is shared with models/transformer.
 */
export function blockConfig(c: BstRankerConfig): TransformerConfig {
  return resolveTransformerConfig({
    hiddenSize: c.hiddenSize, heads: c.heads, blocks: c.blocks, feedForwardSize: c.feedForwardSize, maxLength: c.maxLength + 1,
    timeBuckets: c.timeBuckets, readout: 'last', dropoutEmbedding: c.dropout, dropoutHidden: c.dropout, nSample: 0, validationFraction: 0, seed: c.seed,
  });
}

/** `key=value` CLI params; `mlp=256,128` is a list. */
export function parseBstRankerParams(params: Record<string, string>): Partial<BstRankerConfig> {
  return parseConfigParams(params, ['mlp']) as Partial<BstRankerConfig>;
}
