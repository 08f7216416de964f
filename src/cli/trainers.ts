/**
 * Extension points of `nextclick train`, `nextclick evaluate` and `nextclick demo`, so `src` never imports
 * `models/` statically and a command only loads the model it runs.
 *
 * - `trainers`: model kind → lazy loader of a {@link ModelTrainer} (`nextclick train --model KIND`).
 * - `demoModels`: the models `nextclick demo` trains on the synthetic log, in order.
 *
 * A model package adds itself in its entry module `models/index.ts`, which the commands import on demand
 * ({@link loadModelPackages}) when present:
 * ```ts
 * registerModelKind('gru4rec', loadGru4Rec);                                  // saved directories
 * registerTrainer('gru4rec', async () => (await import('./gru4rec/cli.js')).gru4recTrainer);
 * registerDemoModel({ label: 'gru4rec', train: async (corpus, o) => ... });   // keep `quick` runs to seconds
 * ```
 */
import type { ItemVocabulary } from '../vocab/item-vocabulary.js';
import type { Scorer } from '../scoring/scorer.js';
import type { SessionCorpus } from '../baselines/corpus.js';
import type { CliIo } from './command.js';
import type { ClickLogOptions } from '../data/click-log-options.js';

/** What `nextclick train` asks a trainer to do. */
export interface TrainRequest {
  /** Training log. */
  readonly trainPath: string;
  /** How to read the training and validation logs: format (tsv, srgnn, yoochoose...) and bad-line policy (`--skip-bad-lines`). */
  readonly readOptions: ClickLogOptions;
  /** Model directory to write (model.json, vocabulary.json, data files). */
  readonly outDir: string;
  /** `--param key=value` pairs, unparsed; the trainer types and validates them. */
  readonly params: Record<string, string>;
  /** Optional validation log (early stopping, reported metrics). */
  readonly validPath?: string;
  /** Continue training from this model directory. */
  readonly fromDir?: string;
  /** Machine-readable output requested: write nothing but the final JSON to stdout. */
  readonly json: boolean;
  readonly signal?: AbortSignal;
  /**
   * Called after every epoch of a trainer that has epochs (gru4rec, transformer) with its validation figures;
   * resolving `stop` ends training after that epoch, keeping the weights of the best epoch so far (`nextclick
   * tune` stops weak trials this way). @defaultValue undefined
   */
  readonly onEpoch?: (report: EpochReport) => EpochVerdict | Promise<EpochVerdict>;
}

/** What a trainer reports after an epoch to {@link TrainRequest.onEpoch}. */
export interface EpochReport {
  /** 1-based. */
  readonly epoch: number;
  readonly loss: number;
  /** Seconds of training in the epoch. */
  readonly seconds: number;
  /** Next-item HR@cutoff (recall) and MRR@cutoff on the validation sessions; absent without validation. */
  readonly validation?: { readonly recall: number; readonly mrr: number; readonly predictions: number; readonly cutoff: number };
}

/** Whether training goes on after an epoch. */
export type EpochVerdict = 'continue' | 'stop' | void;

/** What a trainer reports; printed by `nextclick train` (as JSON with --json). */
export interface TrainResult {
  readonly kind: string;
  readonly outDir: string;
  readonly itemCount: number;
  readonly sessions?: number;
  readonly seconds: number;
  /** Model-specific numbers (loss, validation MRR, events/s...). */
  readonly metrics?: Record<string, unknown>;
}

/** Trains one model kind from a log file and saves it to a directory. */
export interface ModelTrainer {
  readonly kind: string;
  /** One line for `nextclick train --help`. */
  readonly describe: string;
  train(request: TrainRequest, io: CliIo): Promise<TrainResult>;
}

/** Model kind → lazy trainer loader. Baselines are built in; model packages add entries. */
export const trainers: Record<string, () => Promise<ModelTrainer>> = {
  pop: async () => (await import('./baseline-trainer.js')).baselineTrainer('pop'),
  itemknn: async () => (await import('./baseline-trainer.js')).baselineTrainer('itemknn'),
  sr: async () => (await import('./baseline-trainer.js')).baselineTrainer('sr'),
  vsknn: async () => (await import('./baseline-trainer.js')).baselineTrainer('vsknn'),
};

/** How `nextclick demo` asks a model to train. */
export interface DemoTrainOptions {
  /** A budget of a few seconds (the demo must stay well under a minute in total). */
  readonly quick: boolean;
  readonly seed: number;
  readonly signal?: AbortSignal;
  /** Where to show training progress (a bar and a line per epoch); absent: train silently. @defaultValue undefined */
  readonly progressStream?: NodeJS.WriteStream;
}

/** A model trained in memory by `nextclick demo`. */
export interface DemoModel {
  /** Label in the demo table. */
  readonly label: string;
  /**
   * Trains on the corpus (dense sessions + vocabulary) and returns a scorer over `corpus.vocabulary`.
   * `quick` asks for a budget of a few seconds (the demo must stay well under a minute in total).
   */
  train(corpus: SessionCorpus, options: DemoTrainOptions): Promise<{ scorer: Scorer; vocabulary: ItemVocabulary }>;
}

const baselineDemo = (kind: 'pop' | 'itemknn' | 'sr' | 'vsknn'): DemoModel => ({
  label: kind,
  async train(corpus) {
    const { trainBaseline } = await import('../baselines/index.js');
    return { scorer: trainBaseline(kind, corpus), vocabulary: corpus.vocabulary };
  },
});

/** Models `nextclick demo` trains, in order. Model packages push their entries (lazy imports inside `train`). */
export const demoModels: DemoModel[] = [baselineDemo('pop'), baselineDemo('itemknn'), baselineDemo('sr'), baselineDemo('vsknn')];

/** Adds (or replaces) the trainer of a model kind. */
export function registerTrainer(kind: string, load: () => Promise<ModelTrainer>): void {
  trainers[kind] = load;
}

/** Adds a model to `nextclick demo` (replacing one with the same label). */
export function registerDemoModel(model: DemoModel): void {
  const i = demoModels.findIndex((m) => m.label === model.label);
  if (i >= 0) demoModels[i] = model;
  else demoModels.push(model);
}

// Lives with the model registry (the SDK's loadModel uses it too); re-exported for the commands.
export { loadModelPackages } from '../scoring/model-registry.js';
