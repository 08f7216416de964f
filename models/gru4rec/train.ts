import { selectBackend, type BackendName } from '../../src/backend/select-backend.js';
import { CancelledError, InvalidOptionError } from '../../src/errors.js';
import type { ItemId } from '../../src/events/click-event.js';
import { noopLogger, type Logger } from '../../src/instrumentation/typed-emitter.js';
import { ProgressBar } from '../../src/instrumentation/progress.js';
import { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';
import { splitValidation } from '../../src/data/validation-split.js';
import { backendReadsSync } from '../training/tensor-reads.js';
import { runEpochs, type EpochDecision, type EpochMetrics, type PassTotals, type ValidationPass } from '../training/epoch-loop.js';
import { evaluateNextItem } from '../training/evaluate-next-item.js';
import { Rng } from '../training/rng.js';
import { PopularitySampler } from '../training/sampler.js';
import { SessionParallelBatcher, type SessionArrays } from '../training/session-batcher.js';
import { resolveGru4RecConfig, type Gru4RecConfig } from './config.js';
import { Gru4RecParams } from './params.js';
import { Gru4RecScorer } from './scorer.js';
import { Gru4RecDeviceStepper } from './device-train-step.js';
import { Gru4RecStepper } from './train-step.js';
import { LOSS_READ_INTERVAL } from '../training/device-optimizer.js';

/** Training data: sessions over dense indices of `vocabulary`, in time order of their first event. */
export interface Gru4RecTrainingData extends SessionArrays {
  readonly vocabulary: ItemVocabulary;
}

/** A model to continue training from (`--from DIR`). */
export interface Gru4RecBase {
  readonly params: Gru4RecParams;
  readonly vocabulary: ItemVocabulary;
}

/** Per-epoch report (shared by the neural trainers). */
export type Gru4RecEpochMetrics = EpochMetrics;

export interface Gru4RecTrainOptions {
  /** Hyper-parameters (defaults: {@link defaultGru4RecConfig}). Ignored for architecture when `from` is set. */
  readonly config?: Partial<Gru4RecConfig>;
  /** Continue from this model: its vocabulary grows with unseen items (new rows initialised, old kept). */
  readonly from?: Gru4RecBase;
  /** Cancels training between steps (rejects with CancelledError). */
  readonly signal?: AbortSignal;
  /** @defaultValue noopLogger */
  readonly logger?: Logger;
  /** Draw a progress bar with loss and events/s. @defaultValue false */
  readonly progress?: boolean;
  readonly progressStream?: NodeJS.WriteStream;
  /** TF.js backend. @defaultValue NEXTCLICK_BACKEND or auto */
  readonly backend?: BackendName | 'auto';
  /** Validation sessions (over the training vocabulary's indices); replaces the held-out split. */
  readonly validation?: SessionArrays;
  /**
   * Called after every epoch (e.g. to write a checkpoint) with the current weights; returning `stop` ends
   * training after this epoch (the best epoch's weights are kept, as with early stopping).
   */
  readonly onEpoch?: (metrics: Gru4RecEpochMetrics, params: Gru4RecParams, vocabulary: ItemVocabulary) => EpochDecision | Promise<EpochDecision>;
}

export interface Gru4RecTrainResult {
  readonly params: Gru4RecParams;
  readonly config: Gru4RecConfig;
  readonly vocabulary: ItemVocabulary;
  readonly epochs: Gru4RecEpochMetrics[];
  /** Epoch whose weights were kept (best validation Recall@20 + MRR@20), 1-based; the last one without validation. */
  readonly bestEpoch: number;
  /** The pass over the validation sessions after early stopping (`trainOnValidation`), when it ran. */
  readonly validationPass?: ValidationPass;
  readonly backend: BackendName;
  readonly trainSeconds: number;
}

/**
 * Trains GRU4Rec the way its authors do: session-parallel mini-batches, one step per event without BPTT,
 * sampled negatives shared by the batch, BPR-max or cross-entropy(+logQ), sparse Adagrad/Adam, early
 * stopping on the latest sessions' Recall@20 + MRR@20 (models/training/epoch-loop.ts).
 */
export async function trainGru4Rec(data: Gru4RecTrainingData, options: Gru4RecTrainOptions = {}): Promise<Gru4RecTrainResult> {
  const logger = options.logger ?? noopLogger;
  const selection = await selectBackend({ ...(options.backend ? { backend: options.backend } : {}), logger });
  const base = options.from;
  const config = resolveGru4RecConfig(base ? { ...options.config, ...architectureOf(base.params.config) } : options.config);
  const { vocabulary, sessions } = base ? remapOnto(base.vocabulary, data) : { vocabulary: data.vocabulary, sessions: data as SessionArrays };
  const rng = new Rng(config.seed);
  let params: Gru4RecParams;
  if (base) {
    params = base.params;
    params.grow(vocabulary.size, rng);
  } else {
    params = new Gru4RecParams(config, vocabulary.size);
    params.initialize(rng);
  }
  const split = splitValidation(sessions, options.validation ? 0 : config.validationFraction, config.validationMaxEvents);
  const train = split.train;
  const validation = options.validation ?? split.validation;
  const support = new Float64Array(vocabulary.size);
  for (let s = 0; s < train.offsets.length - 1; s++) for (let p = train.offsets[s]!; p < train.offsets[s + 1]!; p++) support[train.items[p]!]!++;
  const sampler = new PopularitySampler(support, config.sampleAlpha);
  // Backends that read synchronously (cpu, wasm, tensorflow) train with host parameters and one read per step;
  // the others (webgpu) keep everything on the device and read the loss every LOSS_READ_INTERVAL steps.
  const syncReads = backendReadsSync();
  const stepper = syncReads ? new Gru4RecStepper(params, config, sampler, rng.fork()) : new Gru4RecDeviceStepper(params, config, sampler, rng.fork());
  /** One pass over `sessions` (session-parallel), with a progress bar; ends early when `shouldStop()` turns true. */
  const trainPass = async (sessions: SessionArrays, label: string, shouldStop: () => boolean): Promise<PassTotals> => {
    const batcher = new SessionParallelBatcher(sessions, config.batchSize);
    const bar = new ProgressBar({ label, total: batcher.eventCount, unit: 'events', silent: !options.progress, ...(options.progressStream ? { stream: options.progressStream } : {}) });
    stepper.resetHidden();
    let lossSum = 0, events = 0, steps = 0, recent = 0, recentN = 0, lastYield = performance.now();
    while (!shouldStop() && batcher.step()) {
      const n = batcher.batch.size;
      events += n; steps++;
      if (stepper instanceof Gru4RecStepper) {
        const loss = stepper.step(batcher.batch);
        lossSum += loss * n; recent += loss; recentN++;
      } else {
        stepper.step(batcher.batch);
        if (steps % LOSS_READ_INTERVAL === 0) {
          const r = await stepper.readLoss();
          lossSum += r.loss * r.events; recent += r.loss * (r.events / n); recentN += r.events / n;
        }
      }
      if (steps % 20 === 0 && recentN > 0) {
        bar.update(events, `loss ${(recent / recentN).toFixed(4)}`);
        recent = 0; recentN = 0;
      }
      // Give the event loop a turn every ~20 ms (timers, I/O, abort signals) so an embedding service keeps
      // serving while it trains; a step is a few ms, so this costs well under 1 %.
      if (performance.now() - lastYield > 20) {
        await new Promise<void>((r) => setImmediate(r));
        lastYield = performance.now();
      }
    }
    if (stepper instanceof Gru4RecDeviceStepper) {
      lossSum += (await stepper.readLoss().then((r) => r.loss * r.events));
      await stepper.copyToHost();
    }
    bar.finish(options.signal?.aborted ? 'cancelled' : `loss ${(lossSum / Math.max(1, events)).toFixed(4)}`);
    return { events, lossSum };
  };
  const started = performance.now();
  const cancelled = () => options.signal?.aborted === true;
  try {
    const { epochs, bestEpoch } = await runEpochs({
      name: 'gru4rec', epochs: config.epochs, patience: config.patience, maxSeconds: config.maxSeconds, signal: options.signal, logger,
      report: options.progress ? options.progressStream ?? process.stderr : undefined,
      trainEpoch: (epoch, shouldStop) => trainPass(train, `gru4rec epoch ${epoch}/${config.epochs}`, shouldStop),
      validate: async () => {
        if (!validation) return undefined;
        const scorer = new Gru4RecScorer(params);
        try { return await evaluateNextItem(scorer, validation, { maxPredictions: config.validationMaxEvents }); } finally { scorer.dispose(); }
      },
      weights: () => params.named().map((w) => w.values),
      ...(options.onEpoch ? { onEpoch: (m: EpochMetrics) => options.onEpoch!(m, params, vocabulary) } : {}),
    });
    // The held-out sessions are the newest of the log: once they have chosen the epoch, train on them too.
    let validationPass: ValidationPass | undefined;
    if (config.trainOnValidation && split.validation && !options.validation) {
      // The same stepper and optimiser state; a device stepper first takes the restored weights from the host.
      if (stepper instanceof Gru4RecDeviceStepper) stepper.copyFromHost();
      const t0 = performance.now();
      const pass = await trainPass(split.validation, 'gru4rec: validation sessions', cancelled);
      if (cancelled()) throw new CancelledError('GRU4Rec training');
      validationPass = { events: pass.events, loss: pass.lossSum / Math.max(1, pass.events), seconds: (performance.now() - t0) / 1000 };
      logger.info({ ...validationPass }, 'gru4rec: one pass over the validation sessions');
    }
    return { params, config, vocabulary, epochs, bestEpoch, ...(validationPass ? { validationPass } : {}), backend: selection.backend, trainSeconds: (performance.now() - started) / 1000 };
  } finally {
    if (stepper instanceof Gru4RecDeviceStepper) stepper.dispose();
  }
}

function architectureOf(c: Gru4RecConfig): Partial<Gru4RecConfig> {
  return { layers: c.layers, constrainedEmbedding: c.constrainedEmbedding, embeddingSize: c.embeddingSize, repeatBias: c.repeatBias };
}

/** Re-expresses sessions over the base vocabulary, appending unseen items (existing indices never move). */
function remapOnto(baseVocab: ItemVocabulary, data: Gru4RecTrainingData): { vocabulary: ItemVocabulary; sessions: SessionArrays } {
  const vocabulary = ItemVocabulary.fromIds(baseVocab.toArray());
  const map = new Int32Array(data.vocabulary.size);
  for (let i = 0; i < data.vocabulary.size; i++) map[i] = vocabulary.add(data.vocabulary.idOf(i) as ItemId);
  const items = Int32Array.from(data.items, (i) => {
    if (i < 0 || i >= map.length) throw new InvalidOptionError('data', `session item index ${i} is outside the vocabulary`);
    return map[i]!;
  });
  return { vocabulary, sessions: { offsets: data.offsets, items } };
}
