import { CancelledError } from '../../src/errors.js';
import type { Logger } from '../../src/instrumentation/typed-emitter.js';
import { selectionScore } from '../../src/tuning/tuner.js';
import type { NextItemMetrics } from './evaluate-next-item.js';

/**
 * What a trainer's `onEpoch` callback returns: `stop` ends training after the epoch (the best epoch's weights are
 * kept); anything else goes on. The CLI's trainer contract has the same shape (src/cli/trainers.ts EpochVerdict).
 */
export type EpochDecision = 'continue' | 'stop' | void;

/** Tracks a validation metric (higher is better) and says when to stop: no improvement for `patience` epochs. */
export class EarlyStopping {
  best = -Infinity;
  bestEpoch = -1;
  private sinceBest = 0;

  constructor(readonly patience: number, readonly minDelta = 0) {}

  /** Records an epoch's metric; returns true if it is the new best. */
  record(epoch: number, value: number): boolean {
    if (value > this.best + this.minDelta) {
      this.best = value;
      this.bestEpoch = epoch;
      this.sinceBest = 0;
      return true;
    }
    this.sinceBest++;
    return false;
  }

  get shouldStop(): boolean {
    return this.patience > 0 && this.sinceBest >= this.patience;
  }
}

/** One epoch of a neural trainer (GRU4Rec, transformer). */
export interface EpochMetrics {
  readonly epoch: number;
  /** Mean training loss per trained prediction. */
  readonly loss: number;
  /** Trained predictions (next-item targets). */
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** Seconds the validation check took. */
  readonly validationSeconds?: number;
  readonly validation?: NextItemMetrics;
  /** The time budget (`maxSeconds`) ended this epoch before its last step. */
  readonly cutShort?: boolean;
}

/**
 * What the pass over the held-out validation sessions trained after early stopping (the models'
 * `trainOnValidation` setting): those sessions are the newest of the log, so once they have chosen the epoch the
 * saved model learns from them too.
 */
export interface ValidationPass {
  readonly events: number;
  readonly loss: number;
  readonly seconds: number;
}

/** A pass over training sessions: predictions trained and their summed loss. */
export interface PassTotals {
  readonly events: number;
  readonly lossSum: number;
}

/** A model's part of {@link runEpochs}. */
export interface EpochLoop {
  /** Model kind, for logs and errors (`gru4rec`). */
  readonly name: string;
  readonly epochs: number;
  /** Epochs without a better validation Recall@20 + MRR@20 ({@link selectionScore}) before stopping (0 = never). */
  readonly patience: number;
  /** Training budget in seconds (0 = none): the epoch in progress ends at the first step past it, and no other starts. */
  readonly maxSeconds: number;
  readonly signal?: AbortSignal | undefined;
  readonly logger: Logger;
  /** Where each epoch's summary line goes (progress on), or undefined. */
  readonly report?: NodeJS.WritableStream | undefined;
  /** Trains epoch `epoch`; checks `shouldStop()` between steps (budget spent or cancelled) and ends the pass when it is true. */
  trainEpoch(epoch: number, shouldStop: () => boolean): Promise<PassTotals>;
  /** Validation figures of the current weights (undefined without validation sessions). */
  validate(): Promise<NextItemMetrics | undefined>;
  /** The trained weights: the best epoch's are copied and restored in place at the end. */
  weights(): readonly Float32Array[];
  onEpoch?(metrics: EpochMetrics): EpochDecision | Promise<EpochDecision>;
}

/**
 * The epoch loop every neural trainer shares: trains, validates, reports, stops early on {@link selectionScore},
 * stops at the time budget or on `onEpoch`'s `stop`, and leaves the best validated epoch's weights in place.
 * Cancelling (the signal) rejects with CancelledError between steps.
 */
export async function runEpochs(loop: EpochLoop): Promise<{ epochs: EpochMetrics[]; bestEpoch: number }> {
  const started = performance.now();
  const overTime = () => loop.maxSeconds > 0 && (performance.now() - started) / 1000 > loop.maxSeconds;
  const shouldStop = () => loop.signal?.aborted === true || overTime();
  const stopper = new EarlyStopping(loop.patience);
  const epochs: EpochMetrics[] = [];
  let best: Float32Array[] | undefined;
  for (let epoch = 1; epoch <= loop.epochs; epoch++) {
    const t0 = performance.now();
    const pass = await loop.trainEpoch(epoch, shouldStop);
    if (loop.signal?.aborted) throw new CancelledError(`${loop.name} training`);
    const seconds = (performance.now() - t0) / 1000;
    const cutShort = overTime();
    const v0 = performance.now();
    const validation = await loop.validate();
    const m: EpochMetrics = {
      epoch, loss: pass.lossSum / Math.max(1, pass.events), events: pass.events, seconds, eventsPerSecond: pass.events / Math.max(1e-9, seconds),
      ...(validation ? { validation, validationSeconds: (performance.now() - v0) / 1000 } : {}), ...(cutShort ? { cutShort } : {}),
    };
    epochs.push(m);
    loop.logger.info({ ...m }, `${loop.name} epoch ${epoch}`);
    loop.report?.write(`epoch ${epoch}: loss ${m.loss.toFixed(4)}, ${m.eventsPerSecond.toFixed(0)} events/s${validation ? `, validation Recall@20 ${validation.recall.toFixed(4)} MRR@20 ${validation.mrr.toFixed(4)}` : ''}${cutShort ? `; maxSeconds=${loop.maxSeconds} reached` : ''}\n`);
    const decision = await loop.onEpoch?.(m);
    if (validation && stopper.record(epoch, selectionScore(validation.recall, validation.mrr))) best = loop.weights().map((w) => w.slice());
    if (overTime() || stopper.shouldStop || decision === 'stop') break;
  }
  if (best) loop.weights().forEach((w, i) => w.set(best![i]!));
  return { epochs, bestEpoch: stopper.bestEpoch > 0 ? stopper.bestEpoch : epochs.length };
}

/** The figures a trained model's manifest keeps (`metrics` in model.json; the CLI prints them). */
export function trainingSummary(r: { readonly trainSeconds: number; readonly epochs: readonly EpochMetrics[]; readonly bestEpoch: number; readonly validationPass?: ValidationPass | undefined; readonly backend: string }): Record<string, unknown> {
  const best = r.epochs.find((e) => e.epoch === r.bestEpoch);
  const events = r.epochs.reduce((n, e) => n + e.events, 0);
  const seconds = r.epochs.reduce((n, e) => n + e.seconds, 0);
  return {
    trainSeconds: r.trainSeconds,
    epochsRun: r.epochs.length,
    bestEpoch: r.bestEpoch,
    finalLoss: r.epochs[r.epochs.length - 1]?.loss,
    eventsPerSecond: seconds > 0 ? events / seconds : 0,
    ...(best?.validation ? { validationRecall20: best.validation.recall, validationMrr20: best.validation.mrr } : {}),
    ...(r.validationPass ? { validationPassEvents: r.validationPass.events } : {}),
    backend: r.backend,
  };
}
