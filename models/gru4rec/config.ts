import { InvalidOptionError } from '../../src/errors.js';
import { fieldChecks, mergeConfig, parseConfigParams } from '../training/config-fields.js';
import type { LossName } from '../nn/ranking-losses.js';
import { validateOptimizerOptions, type OptimizerName } from '../training/optimizers.js';

/** GRU4Rec hyper-parameters (architecture and training). Saved in the model manifest's `config`. */
export interface Gru4RecConfig {
  /** GRU layer sizes, input to output. @defaultValue [256] */
  readonly layers: readonly number[];
  /**
   * Tie the input embedding to the output item table ("constrained embedding", GRU4Rec's default and the
   * biggest single win in its authors' ablations). The embedding size is then the last layer's size.
   * @defaultValue true
   */
  readonly constrainedEmbedding: boolean;
  /** Input embedding size when not constrained. @defaultValue 0 (= first layer size) */
  readonly embeddingSize: number;
  /** Dropout on the input embedding. @defaultValue 0.5 */
  readonly dropoutEmbedding: number;
  /** Dropout on each GRU layer's output. @defaultValue 0.3 */
  readonly dropoutHidden: number;
  /** Training loss. @defaultValue 'bpr-max' */
  readonly loss: LossName;
  /** Activation on scores before BPR-max (ranking is unchanged at inference). @defaultValue 'elu' */
  readonly finalActivation: 'elu' | 'linear';
  /** BPR-max score regularisation. @defaultValue 0.9 */
  readonly bpreg: number;
  /** Cross-entropy logQ correction weight (0 = off, 1 = full). @defaultValue 1 */
  readonly logq: number;
  /**
   * Repeat-aware scoring (models/nn/repeat-scores.ts): a learned score per recency added to the items among the
   * session's last {@link GRU4REC_REPEAT_WINDOW} clicks, one per distance from the newest click to the item's
   * latest occurrence; trained with either loss. Off by default, because measurement on the validation split
   * (newest 5 % of the training sessions) went both ways: on yoochoose-100k (BPR-max, 5 epochs) it raised
   * Recall@20 / MRR@20 from 0.684 / 0.358 to 0.697 / 0.376, but on the full Diginetica log (CLI defaults) it
   * lowered them after 3 epochs from 0.516 / 0.172 to 0.454 / 0.130 (MRR@20 stalled at 0.13 from epoch 1);
   * a 40k-session, one-epoch Diginetica subset had suggested a gain (docs/experiments/repeat-aware.md).
   * `nextclick tune` searches it per log. With `loss=cross-entropy` it helped in the first epochs only. @defaultValue false
   */
  readonly repeatBias: boolean;
  /** Session-parallel mini-batch size (slots). @defaultValue 128 */
  readonly batchSize: number;
  /** Extra negatives shared by the mini-batch, drawn ∝ support^sampleAlpha. @defaultValue 2048 */
  readonly nSample: number;
  /** Popularity exponent of the negative sampler. @defaultValue 0.3 */
  readonly sampleAlpha: number;
  /** @defaultValue 'adagrad' */
  readonly optimizer: OptimizerName;
  /** @defaultValue 0.05 */
  readonly learningRate: number;
  /** Nesterov momentum (Adagrad). @defaultValue 0.15 */
  readonly momentum: number;
  /** Passes over the training data. @defaultValue 10 */
  readonly epochs: number;
  /**
   * Most of the latest training sessions held out for early stopping (0 = none): only as many of the newest as hold
   * `validationMaxEvents` predictions are held out, the rest is trained on. @defaultValue 0.05
   */
  readonly validationFraction: number;
  /** Validation predictions per epoch (keeps the check cheap; bounds the hold-out). @defaultValue 20000 */
  readonly validationMaxEvents: number;
  /**
   * After early stopping, train one more pass over the held-out validation sessions (the newest of the log) with
   * the best epoch's weights and the optimiser's state (the transformer at the next epoch's learning rate), so the
   * saved model has seen them; only for a hold-out carved from the training log.
   * Measured on a pseudo-test of the newest sessions carved from the training log (bench/validation-pass.mjs,
   * docs/experiments/validation-pass.md): HR@20 / MRR@20 +1.43 / +0.39 points (GRU4Rec) and +0.50 / +0.16
   * (transformer) on Diginetica, +0.30 / +0.15 and +0.11 / −0.05 on yoochoose-100k. @defaultValue true
   */
  readonly trainOnValidation: boolean;
  /** Stop after this many epochs without a better validation Recall@20 + MRR@20 (0 = never). @defaultValue 2 */
  readonly patience: number;
  /**
   * Training budget in seconds (0 = none): the epoch in progress ends at the first step past it (it is validated
   * and may be the one kept) and no other starts. @defaultValue 0
   */
  readonly maxSeconds: number;
  /** Random seed (init, dropout, samples). @defaultValue 42 */
  readonly seed: number;
}

export const defaultGru4RecConfig = {
  layers: [256],
  constrainedEmbedding: true,
  embeddingSize: 0,
  dropoutEmbedding: 0.5,
  dropoutHidden: 0.3,
  loss: 'bpr-max',
  finalActivation: 'elu',
  bpreg: 0.9,
  logq: 1,
  repeatBias: false,
  batchSize: 128,
  nSample: 2048,
  sampleAlpha: 0.3,
  optimizer: 'adagrad',
  learningRate: 0.05,
  momentum: 0.15,
  epochs: 10,
  validationFraction: 0.05,
  validationMaxEvents: 20000,
  trainOnValidation: true,
  patience: 2,
  maxSeconds: 0,
  seed: 42,
} as const satisfies Gru4RecConfig;

/** Fills defaults and validates; throws InvalidOptionError naming the bad field. */
export function resolveGru4RecConfig(partial: Partial<Gru4RecConfig> = {}): Gru4RecConfig {
  const c: Gru4RecConfig = mergeConfig(defaultGru4RecConfig, partial, 'GRU4Rec');
  if (!Array.isArray(c.layers) || c.layers.length === 0 || !c.layers.every((n) => Number.isInteger(n) && n > 0)) {
    throw new InvalidOptionError('layers', 'layers must be a non-empty list of positive integers, e.g. [256]');
  }
  const { int, frac } = fieldChecks(c);
  int('embeddingSize', 0);
  int('batchSize', 1);
  int('nSample', 0);
  int('epochs', 0);
  int('patience', 0);
  int('validationMaxEvents', 1);
  if (typeof c.trainOnValidation !== 'boolean') throw new InvalidOptionError('trainOnValidation', 'trainOnValidation must be true or false');
  int('seed', 0);
  if (!(c.maxSeconds >= 0)) throw new InvalidOptionError('maxSeconds', 'maxSeconds must be ≥ 0');
  frac('dropoutEmbedding');
  frac('dropoutHidden');
  frac('validationFraction', 0.9);
  if (!(c.sampleAlpha >= 0 && c.sampleAlpha <= 1)) throw new InvalidOptionError('sampleAlpha', 'sampleAlpha must be in [0, 1]');
  if (!(c.bpreg >= 0)) throw new InvalidOptionError('bpreg', 'bpreg must be ≥ 0');
  if (!(c.logq >= 0 && c.logq <= 1)) throw new InvalidOptionError('logq', 'logq must be in [0, 1]');
  if (c.loss !== 'bpr-max' && c.loss !== 'cross-entropy') throw new InvalidOptionError('loss', `loss must be 'bpr-max' or 'cross-entropy', got "${String(c.loss)}"`);
  if (typeof c.repeatBias !== 'boolean') throw new InvalidOptionError('repeatBias', 'repeatBias must be true or false');
  if (c.finalActivation !== 'elu' && c.finalActivation !== 'linear') throw new InvalidOptionError('finalActivation', "finalActivation must be 'elu' or 'linear'");
  validateOptimizerOptions({ name: c.optimizer, learningRate: c.learningRate, momentum: c.momentum, epsilon: 1e-6, beta1: 0.9, beta2: 0.999 });
  return { ...c, layers: [...c.layers] };
}

/** How many of the session's newest clicks the repeat-aware scores look at (config `repeatBias`). */
export const GRU4REC_REPEAT_WINDOW = 20;

/** Input embedding width. */
export function inputSize(c: Gru4RecConfig): number {
  if (c.constrainedEmbedding) return c.layers[c.layers.length - 1]!;
  return c.embeddingSize > 0 ? c.embeddingSize : c.layers[0]!;
}

/**
 * Parses `key=value` strings (the CLI's `--param`) into a partial config: numbers, booleans, and
 * comma-separated layer sizes (`layers=512` or `layers=256,256`; `hidden=` is an alias of `layers=`).
 */
export function parseGru4RecParams(params: readonly string[]): Partial<Gru4RecConfig> {
  return parseConfigParams(params, ['layers'], { hidden: 'layers' }) as Partial<Gru4RecConfig>;
}
