import { selectBackend, type BackendName } from '../../src/backend/select-backend.js';
import { CancelledError, InvalidOptionError } from '../../src/errors.js';
import { noopLogger, type Logger } from '../../src/instrumentation/typed-emitter.js';
import { ProgressBar } from '../../src/instrumentation/progress.js';
import type { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';
import { splitValidation } from '../../src/data/validation-split.js';
import { runEpochs, type EpochDecision, type EpochMetrics, type PassTotals, type ValidationPass } from '../training/epoch-loop.js';
import { evaluateNextItem } from '../training/evaluate-next-item.js';
import { Rng } from '../training/rng.js';
import { PopularitySampler } from '../training/sampler.js';
import type { SessionArrays } from '../training/session-batcher.js';
import { resolveTransformerConfig, type TransformerConfig } from './config.js';
import { TransformerParams } from './params.js';
import { TransitionGraph } from './transitions.js';
import { TransformerScorer } from './scorer.js';
import { TransformerStepper, optimizedParameters, trainBatches, type TrainingWindow } from './train-step.js';
import { TransformerDeviceStepper } from './device-train-step.js';
import { backendReadsSync } from '../training/tensor-reads.js';
import { ParallelTrainer, sharedAllocator, sharedArrays } from './parallel-train.js';

/** Training data: sessions over dense indices of `vocabulary`, in time order of their first event. */
export interface TransformerTrainingData extends SessionArrays {
  readonly vocabulary: ItemVocabulary;
  /** Event times (ms), aligned with `items`; enables the time-gap embedding when `timeBuckets` > 0. */
  readonly times?: Float64Array;
}

/** Per-epoch report (shared by the neural trainers). */
export type TransformerEpochMetrics = EpochMetrics;

export interface TransformerTrainOptions {
  /** Hyper-parameters (defaults: {@link defaultTransformerConfig}). */
  readonly config?: Partial<TransformerConfig>;
  /** Explicit validation sessions (same vocabulary) for early stopping, instead of holding out the latest. */
  readonly validation?: SessionArrays;
  readonly signal?: AbortSignal;
  /** @defaultValue noopLogger */
  readonly logger?: Logger;
  /** Draw a progress bar with loss and events/s. @defaultValue false */
  readonly progress?: boolean;
  readonly progressStream?: NodeJS.WriteStream;
  /** @defaultValue NEXTCLICK_BACKEND or auto */
  readonly backend?: BackendName | 'auto';
  /**
   * Warm start: weights to begin from instead of random ones (a model trained on the same vocabulary). Every
   * weight of the same name and shape is copied; the others (an option the earlier model did not have) keep
   * their fresh initialisation. The optimiser state starts afresh.
   */
  readonly initialWeights?: TransformerParams;
  /** Epochs the warm-start weights were already trained for: the learning-rate decay continues from there. @defaultValue 0 */
  readonly continueFromEpoch?: number;
  /**
   * Called after every epoch with the current weights (checkpoints); returning `stop` ends training after this
   * epoch (the best epoch's weights are kept, as with early stopping).
   */
  readonly onEpoch?: (metrics: TransformerEpochMetrics, params: TransformerParams) => EpochDecision | Promise<EpochDecision>;
}

export interface TransformerTrainResult {
  readonly params: TransformerParams;
  readonly config: TransformerConfig;
  readonly vocabulary: ItemVocabulary;
  readonly epochs: TransformerEpochMetrics[];
  /** 1-based epoch whose weights were kept (best validation Recall@20 + MRR@20; the last one without validation). */
  readonly bestEpoch: number;
  /** The pass over the validation sessions after early stopping (`trainOnValidation`), when it ran. */
  readonly validationPass?: ValidationPass;
  readonly backend: BackendName;
  readonly trainSeconds: number;
}

/**
 * Cuts sessions into training windows of at most `maxLength` inputs (a session longer than that yields
 * consecutive windows, so every transition is trained once).
 */
export function buildWindows(data: SessionArrays & { times?: Float64Array }, maxLength: number): TrainingWindow[] {
  const out: TrainingWindow[] = [];
  for (let s = 0; s + 1 < data.offsets.length; s++) {
    const a = data.offsets[s]!, b = data.offsets[s + 1]!;
    for (let start = a; start + 1 < b; start += maxLength) {
      const end = Math.min(b, start + maxLength + 1);
      const items = data.items.subarray(start, end);
      const session = data.items.subarray(a, b);
      if (!data.times) { out.push({ items, session }); continue; }
      const gaps = new Float64Array(end - start - 1);
      for (let k = start; k < end - 1; k++) gaps[k - start] = k > a ? data.times[k]! - data.times[k - 1]! : NaN;
      out.push({ items, gaps, session });
    }
  }
  return out;
}

/** Batches of windows of similar length (less padding), in a random order per epoch. */
export function bucketBatches(windows: readonly TrainingWindow[], batchSize: number, rng: Rng): TrainingWindow[][] {
  return bucketBatchIndices(windows, batchSize, rng).map((b) => b.map((k) => windows[k]!));
}

/** {@link bucketBatches} as indices into `windows` (what parallel training sends its workers). */
export function bucketBatchIndices(windows: readonly TrainingWindow[], batchSize: number, rng: Rng): number[][] {
  const order = Array.from(windows.keys());
  for (let i = order.length - 1; i > 0; i--) { const j = rng.int(i + 1); [order[i], order[j]] = [order[j]!, order[i]!]; }
  order.sort((x, y) => windows[x]!.items.length - windows[y]!.items.length);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  for (let i = batches.length - 1; i > 0; i--) { const j = rng.int(i + 1); [batches[i], batches[j]] = [batches[j]!, batches[i]!]; }
  return batches;
}

/**
 * Trains the next-item transformer on every position of every session window (causal), with GRU4Rec's
 * sampled negatives and losses, sparse Adam/Adagrad on the item tables, and early stopping on the latest
 * sessions' Recall@20 + MRR@20 (weights of the best epoch are kept; models/training/epoch-loop.ts).
 */
export async function trainTransformer(data: TransformerTrainingData, options: TransformerTrainOptions = {}): Promise<TransformerTrainResult> {
  const logger = options.logger ?? noopLogger;
  const selection = await selectBackend({ ...(options.backend ? { backend: options.backend } : {}), logger });
  const config = resolveTransformerConfig(options.config);
  const vocabulary = data.vocabulary;
  const rng = new Rng(config.seed);
  // workers > 1: weights and optimiser state in shared memory, trained by worker threads (parallel-train.ts).
  const sharedParams = config.workers > 1 ? sharedAllocator() : undefined;
  const sharedOptimizer = config.workers > 1 ? sharedAllocator() : undefined;
  const params = new TransformerParams(config, vocabulary.size, sharedParams?.allocate);
  params.initialize(rng);
  const continued = options.continueFromEpoch ?? 0;
  if (!(Number.isInteger(continued) && continued >= 0)) throw new InvalidOptionError('continueFromEpoch', `continueFromEpoch must be an integer ≥ 0, got ${String(options.continueFromEpoch)}`);
  if (options.initialWeights) copyMatchingWeights(options.initialWeights, params);
  const split = options.validation ? { train: data as SessionArrays, validation: options.validation } : splitValidation(data, config.validationFraction, config.validationMaxEvents);
  const { train, validation } = split;
  const trainTimes = data.times?.subarray(0, train.items.length);
  const support = new Float64Array(vocabulary.size);
  for (let k = 0; k < train.items.length; k++) support[train.items[k]!]!++;
  const sampler = new PopularitySampler(support, config.sampleAlpha);
  // Parallel training only allocates the shared optimiser state here; each worker has its own stepper.
  // Backends that read synchronously (cpu, wasm, tensorflow) train with host weights and one read per step;
  // the others (webgpu) keep everything on the device and read the loss every 16 steps.
  const stepper = sharedOptimizer ? undefined : backendReadsSync() ? new TransformerStepper(params, config, sampler, rng.fork()) : new TransformerDeviceStepper(params, config, sampler, rng.fork());
  // The unused fork keeps the batch order the same as a single-thread run's.
  if (sharedOptimizer) { rng.fork(); optimizedParameters(params, config, sharedOptimizer.allocate); }
  const trainData = { ...train, ...(trainTimes ? { times: trainTimes } : {}) };
  // The prior's counts come from the training sessions only (never the validation ones).
  if (config.transitionPrior) params.transitions = TransitionGraph.fromSessions(train, vocabulary.size);
  const windows = buildWindows(trainData, config.maxLength);
  const positions = windows.reduce((n, w) => n + w.items.length - 1, 0);
  const started = performance.now();
  let parallel: ParallelTrainer | undefined;
  if (sharedParams && sharedOptimizer) {
    const seeds = new Rng(config.seed ^ 0x5bd1e995);
    parallel = await ParallelTrainer.start({ config, itemCount: vocabulary.size, paramBuffers: sharedParams.buffers, optimizerBuffers: sharedOptimizer.buffers, data: trainData, support, backend: selection.backend, seeds: Array.from({ length: config.workers }, () => seeds.nextUint32()) });
    logger.info({ workers: config.workers }, `transformer training on ${config.workers} worker threads (shared weights, lock-free updates)`);
  }
  const batchRng = rng.fork();
  const cancelled = () => options.signal?.aborted === true;
  let validationPass: ValidationPass | undefined;
  let run: { epochs: EpochMetrics[]; bestEpoch: number };
  try {
    run = await runEpochs({
      name: 'transformer', epochs: config.epochs, patience: config.patience, maxSeconds: config.maxSeconds, signal: options.signal, logger,
      report: options.progress ? options.progressStream ?? process.stderr : undefined,
      trainEpoch: async (epoch, shouldStop) => {
        // Epoch numbers of a warm-started run continue the earlier run's learning-rate decay.
        const schedule = { learningRateScale: Math.pow(config.learningRateDecay, epoch + continued - 1) };
        const bar = new ProgressBar({ label: `transformer epoch ${epoch}/${config.epochs}`, total: positions, unit: 'events', silent: !options.progress, ...(options.progressStream ? { stream: options.progressStream } : {}) });
        let trained: PassTotals;
        if (parallel) {
          const runner = parallel;
          let shown = 0;
          trained = await runner.trainEpoch(bucketBatchIndices(windows, config.batchSize, batchRng), schedule, (n, loss) => {
            if (shouldStop()) runner.stop();
            if (n - shown >= 10 * config.batchSize) { bar.update(n, `loss ${(loss / Math.max(1, n)).toFixed(4)}`); shown = n; }
          });
        } else {
          stepper!.setSchedule(schedule);
          trained = await trainBatches(stepper!, bucketBatches(windows, config.batchSize, batchRng), {
            shouldStop,
            progress: async (t, recentLoss) => {
              bar.update(t.events, `loss ${recentLoss.toFixed(4)}`);
              // Lets an abort signal's listeners run between steps.
              await new Promise<void>((r) => setImmediate(r));
            },
          });
        }
        bar.finish(cancelled() ? 'cancelled' : `loss ${(trained.lossSum / Math.max(1, trained.events)).toFixed(4)}`);
        return trained;
      },
      validate: async () => {
        if (!validation) return undefined;
        const scorer = new TransformerScorer(params);
        try { return await evaluateNextItem(scorer, validation, { maxPredictions: config.validationMaxEvents }); } finally { scorer.dispose(); }
      },
      weights: () => params.named().map((w) => w.values),
      ...(options.onEpoch ? { onEpoch: (m: EpochMetrics) => options.onEpoch!(m, params) } : {}),
    });
    // The held-out sessions are the newest of the log: once they have chosen the epoch, train on them too.
    if (config.trainOnValidation && validation && !options.validation) {
      const heldOut = { ...validation, ...(data.times ? { times: data.times.subarray(train.items.length) } : {}) };
      // The same optimiser state: a device stepper first takes the restored weights from the host; after parallel
      // training a stepper on this thread maps the workers' shared state.
      if (stepper instanceof TransformerDeviceStepper) stepper.copyFromHost();
      const passStepper = stepper ?? new TransformerStepper(params, config, sampler, rng.fork(), sharedArrays(sharedOptimizer!.buffers));
      passStepper.setSchedule({ learningRateScale: Math.pow(config.learningRateDecay, run.bestEpoch + continued) });
      const t0 = performance.now();
      const pass = await trainBatches(passStepper, bucketBatches(buildWindows(heldOut, config.maxLength), config.batchSize, batchRng), { shouldStop: cancelled });
      if (cancelled()) throw new CancelledError('transformer training');
      validationPass = { events: pass.events, loss: pass.lossSum / Math.max(1, pass.events), seconds: (performance.now() - t0) / 1000 };
      logger.info({ ...validationPass }, 'transformer: one pass over the validation sessions');
      if (options.progress) (options.progressStream ?? process.stderr).write(`validation sessions trained on (${pass.events} events, loss ${validationPass.loss.toFixed(4)})\n`);
    }
  } finally {
    await parallel?.close();
    if (stepper instanceof TransformerDeviceStepper) stepper.dispose();
  }
  // The trained model owns ordinary arrays, not the workers' shared memory.
  const model = parallel ? TransformerParams.fromNamed(config, vocabulary.size, new Map(params.named().map((w) => [w.name, { shape: w.shape, values: w.values }]))) : params;
  model.transitions = params.transitions;
  return { params: model, config, vocabulary, epochs: run.epochs, bestEpoch: run.bestEpoch, ...(validationPass ? { validationPass } : {}), backend: selection.backend, trainSeconds: (performance.now() - started) / 1000 };
}

/** Copies every weight of `from` whose name and shape `to` also has (warm start). */
function copyMatchingWeights(from: TransformerParams, to: TransformerParams): void {
  if (from.itemCount !== to.itemCount) throw new InvalidOptionError('initialWeights', `initialWeights has ${from.itemCount} items, the training data ${to.itemCount}: warm start needs the same vocabulary`);
  const source = new Map(from.named().map((w) => [w.name, w]));
  for (const w of to.named()) {
    const f = source.get(w.name);
    if (f && f.values.length === w.values.length && f.shape.join() === w.shape.join()) w.values.set(f.values);
  }
}
