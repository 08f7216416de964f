import { InvalidOptionError } from '../../src/errors.js';
import { fieldChecks, mergeConfig, parseConfigParams } from '../training/config-fields.js';
import type { LossName } from '../nn/ranking-losses.js';
import { validateOptimizerOptions, type OptimizerName } from '../training/optimizers.js';

/** How the session vector is read out of the transformer (see {@link TransformerConfig.readout}). */
export type TransformerReadout = 'last' | 'item-attention';
const READOUTS: readonly TransformerReadout[] = ['last', 'item-attention'];

/** Next-item transformer hyper-parameters (architecture and training). Saved in the model manifest's `config`. */
export interface TransformerConfig {
  /** Model width (embedding size). @defaultValue 200 */
  readonly hiddenSize: number;
  /** Attention heads; must divide hiddenSize. @defaultValue 2 */
  readonly heads: number;
  /** Transformer blocks. @defaultValue 1 */
  readonly blocks: number;
  /** Inner width of each block's feed-forward layer. @defaultValue 400 */
  readonly feedForwardSize: number;
  /** Window: the model attends to at most the last `maxLength` items of a session. @defaultValue 20 */
  readonly maxLength: number;
  /**
   * Time-gap embedding buckets (0 = off). When the training data has timestamps, each position also gets
   * an embedding of the bucketised log of the time since the previous event (see README: a gap to the
   * previous event, not to the newest one, so cached keys stay valid). @defaultValue 0
   */
  readonly timeBuckets: number;
  /** Dropout on the input embeddings. @defaultValue 0.5 */
  readonly dropoutEmbedding: number;
  /** Dropout on attention and feed-forward outputs. @defaultValue 0.3 */
  readonly dropoutHidden: number;
  /**
   * Training loss (shared with GRU4Rec). BPR-max needs plain dot-product scores (`cosineTemperature: 0`): over
   * cosine scores its regulariser pulls every negative to zero and the ranking collapsed on Diginetica
   * (P@20 0.18 after one epoch). @defaultValue 'cross-entropy'
   */
  readonly loss: LossName;
  /** BPR-max score activation. @defaultValue 'linear' */
  readonly finalActivation: 'elu' | 'linear';
  /** BPR-max regularisation. @defaultValue 0.9 */
  readonly bpreg: number;
  /** Cross-entropy logQ correction weight. @defaultValue 1 */
  readonly logq: number;
  /**
   * Scores as cosine similarity over a temperature (0 = plain dot product): the session vector and the item
   * rows are L2-normalised and their product divided by this (NISER/CORE). Without it the norms of popular
   * items' embeddings grow and dominate the ranking. @defaultValue 0.07
   */
  readonly cosineTemperature: number;
  /**
   * Session vector: `last` = the transformer's output at the newest position (SASRec); `item-attention` = a
   * weighted sum of the session's item embeddings with weights from the transformer (CORE). `item-attention`
   * was much better on Diginetica; `last` learns strictly order-determined patterns (next item fixed by the
   * last two) better. @defaultValue 'item-attention'
   */
  readonly readout: TransformerReadout;
  /**
   * Add a learned score to items already in the window, one per distance from the newest position to the
   * item's latest occurrence (0 = the newest item). A fifth of Diginetica's next clicks repeat an item of the
   * session; this lets the model rank them by recency directly. Cross-entropy loss only. Off by default: on the
   * validation split it changed Recall@20 / MRR@20 by no more than noise (yoochoose-100k, two seeds: +0.003 /
   * +0.003 and −0.000 / +0.001; Diginetica, newest 40k sessions, 1 epoch: −0.000 / +0.003), since the
   * item-attention readout already scores the session's own items (docs/experiments/repeat-aware.md; the layer is
   * models/nn/repeat-scores.ts, shared with GRU4Rec). @defaultValue false
   */
  readonly repeatBias: boolean;
  /**
   * Add a learned weight × log(1 + count of newest item → candidate in the training sessions) to each score,
   * one weight per window position (the graph is built from the training data and saved with the model). It
   * gives short sessions the direction of the clicks that the symmetric cosine lacks. During training a
   * session's own transitions are left out of the counts, as a test session's are. Cross-entropy loss only.
   * @defaultValue false
   */
  readonly transitionPrior: boolean;
  /** Session windows per mini-batch (windows are bucketed by length). @defaultValue 128 */
  readonly batchSize: number;
  /** Extra negatives shared by the mini-batch, drawn ∝ support^sampleAlpha. @defaultValue 8192 */
  readonly nSample: number;
  /** @defaultValue 0.5 */
  readonly sampleAlpha: number;
  /** @defaultValue 'adam' */
  readonly optimizer: OptimizerName;
  /** @defaultValue 0.002 */
  readonly learningRate: number;
  /** Learning-rate multiplier per epoch (epoch e trains at learningRate × decay^(e−1); 1 = constant). @defaultValue 0.8 */
  readonly learningRateDecay: number;
  /** Nesterov momentum (Adagrad only). @defaultValue 0 */
  readonly momentum: number;
  /** @defaultValue 10 */
  readonly epochs: number;
  /**
   * Most of the latest sessions held out for early stopping (0 = none): only as many of the newest as hold
   * `validationMaxEvents` predictions are held out, the rest is trained on. @defaultValue 0.05
   */
  readonly validationFraction: number;
  /**
   * After early stopping, train one more pass over the held-out validation sessions (the newest of the log) with
   * the best epoch's weights and the optimiser's state (the transformer at the next epoch's learning rate), so the
   * saved model has seen them; only for a hold-out carved from the training log.
   * Measured on a pseudo-test of the newest sessions carved from the training log (bench/validation-pass.mjs,
   * docs/experiments/validation-pass.md): HR@20 / MRR@20 +1.43 / +0.39 points (GRU4Rec) and +0.50 / +0.16
   * (transformer) on Diginetica, +0.30 / +0.15 and +0.11 / −0.05 on yoochoose-100k. @defaultValue true
   */
  readonly trainOnValidation: boolean;
  /** Validation predictions per epoch (bounds the hold-out). @defaultValue 20000 */
  readonly validationMaxEvents: number;
  /** Epochs without a better validation Recall@20 + MRR@20 before stopping (0 = never). @defaultValue 3 */
  readonly patience: number;
  /**
   * Training budget in seconds (0 = none): the epoch in progress ends at the first step past it (it is validated
   * and may be the one kept) and no other starts. @defaultValue 0
   */
  readonly maxSeconds: number;
  /** @defaultValue 42 */
  readonly seed: number;
  /**
   * Worker threads training the same weights at once, lock-free (Hogwild-style: each applies its own sparse
   * updates to shared memory). About N× the events/s on N free cores; training is then no longer
   * bit-reproducible from the seed. Runs from the built package (the workers load compiled JavaScript).
   * @defaultValue 1
   */
  readonly workers: number;
}

export const defaultTransformerConfig = {
  hiddenSize: 200,
  heads: 2,
  blocks: 1,
  feedForwardSize: 400,
  maxLength: 20,
  timeBuckets: 0,
  dropoutEmbedding: 0.5,
  dropoutHidden: 0.3,
  loss: 'cross-entropy',
  finalActivation: 'linear',
  bpreg: 0.9,
  logq: 1,
  cosineTemperature: 0.07,
  readout: 'item-attention',
  repeatBias: false,
  transitionPrior: false,
  batchSize: 128,
  nSample: 8192,
  sampleAlpha: 0.5,
  optimizer: 'adam',
  learningRate: 0.002,
  learningRateDecay: 0.8,
  momentum: 0,
  epochs: 10,
  validationFraction: 0.05,
  validationMaxEvents: 20000,
  trainOnValidation: true,
  patience: 3,
  maxSeconds: 0,
  seed: 42,
  workers: 1,
} as const satisfies TransformerConfig;

/** Fills defaults and validates; throws InvalidOptionError naming the bad field. */
export function resolveTransformerConfig(partial: Partial<TransformerConfig> = {}): TransformerConfig {
  const c: TransformerConfig = mergeConfig(defaultTransformerConfig, partial, 'transformer');
  const { int, frac } = fieldChecks(c);
  for (const k of ['hiddenSize', 'heads', 'blocks', 'feedForwardSize', 'maxLength', 'batchSize', 'workers'] as const) int(k, 1);
  for (const k of ['timeBuckets', 'nSample', 'epochs', 'patience', 'seed', 'maxSeconds'] as const) int(k, 0);
  int('validationMaxEvents', 1);
  if (c.hiddenSize % c.heads !== 0) throw new InvalidOptionError('heads', `heads (${c.heads}) must divide hiddenSize (${c.hiddenSize})`);
  if (c.timeBuckets === 1) throw new InvalidOptionError('timeBuckets', 'timeBuckets must be 0 (off) or ≥ 2');
  frac('dropoutEmbedding');
  frac('dropoutHidden');
  frac('validationFraction', 0.9);
  if (!(c.sampleAlpha >= 0 && c.sampleAlpha <= 1)) throw new InvalidOptionError('sampleAlpha', 'sampleAlpha must be in [0, 1]');
  if (!(c.bpreg >= 0)) throw new InvalidOptionError('bpreg', 'bpreg must be ≥ 0');
  if (!(typeof c.cosineTemperature === 'number' && c.cosineTemperature >= 0 && c.cosineTemperature <= 10)) throw new InvalidOptionError('cosineTemperature', `cosineTemperature must be 0 (off) or in (0, 10], got ${String(c.cosineTemperature)}`);
  if (!(typeof c.learningRateDecay === 'number' && c.learningRateDecay > 0 && c.learningRateDecay <= 1)) throw new InvalidOptionError('learningRateDecay', `learningRateDecay must be in (0, 1], got ${String(c.learningRateDecay)}`);
  if (!READOUTS.includes(c.readout)) throw new InvalidOptionError('readout', `readout must be one of ${READOUTS.map((r) => `'${r}'`).join(', ')}, got "${String(c.readout)}"`);
  if (typeof c.repeatBias !== 'boolean') throw new InvalidOptionError('repeatBias', 'repeatBias must be true or false');
  if (c.repeatBias && c.loss !== 'cross-entropy') throw new InvalidOptionError('repeatBias', "repeatBias needs loss 'cross-entropy'");
  if (typeof c.trainOnValidation !== 'boolean') throw new InvalidOptionError('trainOnValidation', 'trainOnValidation must be true or false');
  if (typeof c.transitionPrior !== 'boolean') throw new InvalidOptionError('transitionPrior', 'transitionPrior must be true or false');
  if (c.transitionPrior && c.loss !== 'cross-entropy') throw new InvalidOptionError('transitionPrior', "transitionPrior needs loss 'cross-entropy'");
  if (!(c.logq >= 0 && c.logq <= 1)) throw new InvalidOptionError('logq', 'logq must be in [0, 1]');
  if (c.loss !== 'bpr-max' && c.loss !== 'cross-entropy') throw new InvalidOptionError('loss', `loss must be 'bpr-max' or 'cross-entropy', got "${String(c.loss)}"`);
  if (c.finalActivation !== 'elu' && c.finalActivation !== 'linear') throw new InvalidOptionError('finalActivation', "finalActivation must be 'elu' or 'linear'");
  validateOptimizerOptions({ name: c.optimizer, learningRate: c.learningRate, momentum: c.momentum, epsilon: 1e-6, beta1: 0.9, beta2: 0.999 });
  return c;
}

/** Parses `key=value` strings (the CLI's `--param`) into a partial config (numbers, booleans, strings). */
export function parseTransformerParams(params: readonly string[] | Record<string, string>): Partial<TransformerConfig> {
  return parseConfigParams(params) as Partial<TransformerConfig>;
}

/**
 * Time-gap bucket of a gap in ms: 0 for the first event (no previous one), then log2-spaced buckets of
 * seconds (1 + floor(log2(1 + seconds))), capped at `buckets − 1`.
 */
export function timeBucket(gapMs: number | undefined, buckets: number): number {
  if (gapMs === undefined || !Number.isFinite(gapMs)) return 0;
  const b = 1 + Math.floor(Math.log2(1 + Math.max(0, gapMs) / 1000));
  return Math.min(buckets - 1, b);
}
