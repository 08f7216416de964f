/**
 * Asynchronous successive halving (ASHA, Li et al. 2020, the stopping variant): trials report a validation
 * value after each epoch; at a rung epoch (1, 3, 9... for η = 3) a trial goes on only while it ranks in the best
 * 1/η of the values recorded at that rung, else it is stopped. Trials are compared within a group (a model
 * kind). Pure bookkeeping: the caller runs the trials and acts on the verdicts.
 */
import { InvalidOptionError } from '../errors.js';

/** `wait`: the verdict depends on earlier trials that have not reached the rung yet (ordered mode). */
export type RungVerdict = 'continue' | 'stop' | 'wait';

/** Options of {@link SuccessiveHalving}. */
export interface SuccessiveHalvingOptions {
  /** Reduction factor: at each rung the best ⌈n/η⌉ of the n trials compared go on. @defaultValue 3 */
  readonly eta?: number;
  /** Epochs at which trials are compared, ascending (see {@link rungEpochs}). */
  readonly rungs: readonly number[];
  /**
   * Compare trial n only with trials numbered below n, and wait until each of those has reached the rung or
   * ended: the verdicts then depend only on the trials' results, not on which process ran faster, so a run is
   * reproducible given its seed and trial count. false: compare with whatever is recorded so far (plain ASHA,
   * never waits). @defaultValue true
   */
  readonly ordered?: boolean;
}

/** Rung epochs min·η^i below `maxEpochs` (e.g. 1, 3, 9 for η = 3 and 10 epochs); the last epoch is no rung. */
export function rungEpochs(maxEpochs: number, eta: number, minEpochs = 1): number[] {
  if (!(Number.isInteger(maxEpochs) && maxEpochs >= 1)) throw new InvalidOptionError('maxEpochs', `epochs per trial must be an integer ≥ 1, got ${maxEpochs}`);
  if (!(eta >= 2)) throw new InvalidOptionError('eta', `eta must be ≥ 2, got ${eta}`);
  const out: number[] = [];
  for (let r = minEpochs; r < maxEpochs; r *= eta) out.push(Math.round(r));
  return out;
}

interface GroupState {
  /** rung epoch → trial → value there. */
  readonly values: Map<number, Map<number, number>>;
  /** Trials started and not ended. */
  readonly running: Set<number>;
  /** Ended trials → the last epoch they reported (0 if none). */
  readonly ended: Map<number, number>;
  /** Trials never stopped (the defaults: the reference every other trial must beat). */
  readonly exempt: Set<number>;
  /** Last epoch reported by each trial. */
  readonly lastEpoch: Map<number, number>;
}

/** Rung bookkeeping and verdicts of successive halving (higher values are better). */
export class SuccessiveHalving {
  readonly eta: number;
  readonly rungs: readonly number[];
  readonly ordered: boolean;
  private readonly groups = new Map<string, GroupState>();

  constructor(options: SuccessiveHalvingOptions) {
    this.eta = options.eta ?? 3;
    if (!(this.eta >= 2)) throw new InvalidOptionError('eta', `eta must be ≥ 2, got ${this.eta}`);
    this.rungs = [...options.rungs];
    this.ordered = options.ordered ?? true;
  }

  private group(name: string): GroupState {
    let g = this.groups.get(name);
    if (!g) {
      g = { values: new Map(), running: new Set(), ended: new Map(), exempt: new Set(), lastEpoch: new Map() };
      this.groups.set(name, g);
    }
    return g;
  }

  /** A trial starts; `exempt` trials are recorded but never stopped. */
  start(group: string, trial: number, exempt = false): void {
    const g = this.group(group);
    g.running.add(trial);
    if (exempt) g.exempt.add(trial);
  }

  /** Records the value of `trial` after `epoch` (kept when the epoch is a rung). */
  record(group: string, trial: number, epoch: number, value: number): void {
    const g = this.group(group);
    g.lastEpoch.set(trial, epoch);
    if (!this.rungs.includes(epoch)) return;
    let at = g.values.get(epoch);
    if (!at) g.values.set(epoch, (at = new Map()));
    at.set(trial, Number.isFinite(value) ? value : -Infinity);
  }

  /** A trial has ended (finished, stopped or failed): it will report nothing more. */
  end(group: string, trial: number): void {
    const g = this.group(group);
    g.running.delete(trial);
    g.ended.set(trial, g.lastEpoch.get(trial) ?? 0);
  }

  /**
   * Verdict for `trial` after it recorded `epoch`: `continue` off the rungs, for exempt trials, and while it ranks
   * in the best ⌈n/η⌉ of the n values at the rung (ties in its favour); `stop` otherwise; `wait` in ordered mode
   * while a lower-numbered trial of the group has neither reached the rung nor ended.
   */
  decide(group: string, trial: number, epoch: number): RungVerdict {
    const g = this.group(group);
    if (!this.rungs.includes(epoch) || g.exempt.has(trial)) return 'continue';
    const at = g.values.get(epoch) ?? new Map<number, number>();
    const mine = at.get(trial);
    if (mine === undefined) throw new InvalidOptionError('trial', `trial ${trial} has no value recorded at epoch ${epoch}`);
    if (this.ordered) {
      for (const other of g.running) if (other < trial && !at.has(other)) return 'wait';
    }
    let n = 1;
    let better = 0;
    for (const [other, v] of at) {
      if (other === trial || (this.ordered && other > trial)) continue;
      n++;
      if (v > mine) better++;
    }
    return better + 1 <= Math.max(1, Math.ceil(n / this.eta)) ? 'continue' : 'stop';
  }
}
