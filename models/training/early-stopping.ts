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
