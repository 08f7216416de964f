/**
 * Runs the trials of a tuning run: up to `parallel` at once, within a wall-clock and/or trial budget, with
 * successive-halving verdicts at the rung epochs, every ended trial appended to the trials table, and trials
 * already in the table (an earlier, interrupted run) not run again. Generic: a {@link TrialRunner} trains the
 * models (the CLI wires one per model kind).
 */
import { CancelledError } from '../errors.js';
import type { TrialParams } from './search-space.js';
import type { SuccessiveHalving } from './successive-halving.js';
import { bestTrial, type TrialEpoch, type TrialRecord, type TrialStatus, type TrialStore } from './trial-store.js';

/** What trial n runs. */
export interface TrialPlan {
  readonly kind: string;
  /** The kind's defaults: never stopped at a rung, so the best trial is at least as good on validation. */
  readonly defaults: boolean;
  readonly params: TrialParams;
  /** Most epochs the trial trains (kinds trained by epochs); no epoch past the budget is started before it. */
  readonly epochs?: number;
}

/** What a runner gets for one trial. */
export interface TrialContext {
  readonly trial: number;
  readonly plan: TrialPlan;
  /**
   * Report the validation figures after an epoch; resolves `stop` when the trial must end now (pruned at a rung,
   * or out of time): the runner then ends training, keeping the model of its best epoch so far.
   */
  reportEpoch(epoch: TrialEpoch): Promise<'continue' | 'stop'>;
  /** Seconds left of the wall-clock budget when the trial starts (undefined: no wall-clock budget). */
  readonly secondsLeft?: number;
  /**
   * Aborted when the whole run is cancelled, and when the budget is spent before the trial finished its first
   * epoch (nothing of it would count; a trial with epochs finishes the one it is in).
   */
  readonly signal: AbortSignal;
}

/** Trains and validates one trial; resolves with the figures of the model it kept, or throws (the trial failed). */
export type TrialRunner = (context: TrialContext) => Promise<TrialEpoch>;

/**
 * The validation figure trials are ranked by: HR@20 + MRR@20 (`hitRate+mrr`, the default, the figure the neural
 * models' early stopping uses too: {@link selectionScore}), or either alone.
 */
export type Objective = 'hitRate+mrr' | 'hitRate' | 'mrr';

/**
 * The one figure that chooses among epochs (the neural models' early stopping) and, by default, among tuning
 * trials: validation HR@20 (= Recall@20) + MRR@20. Neither alone: on Diginetica the transformer's MRR@20 peaked
 * epochs before its Recall@20 did (docs/experiments/transformer.md, second session), and a model is reported on both.
 */
export function selectionScore(hitRate: number, mrr: number): number {
  return hitRate + mrr;
}

/** How {@link Objective} reads in reports and messages. */
export function objectiveName(objective: Objective, cutoff: number): string {
  return objective === 'hitRate+mrr' ? `HR@${cutoff} + MRR@${cutoff}` : objective === 'mrr' ? `MRR@${cutoff}` : `HR@${cutoff}`;
}

/** Progress of a run, for a progress display. */
export type TuneEvent =
  | { readonly type: 'start'; readonly trial: number; readonly plan: TrialPlan }
  | { readonly type: 'epoch'; readonly trial: number; readonly plan: TrialPlan; readonly epoch: TrialEpoch; readonly verdict: 'continue' | 'stop' | 'out-of-time'; readonly rung: boolean }
  | { readonly type: 'end'; readonly record: TrialRecord; readonly best: TrialRecord | undefined };

/** Options of {@link runTrials}. */
export interface RunTrialsOptions {
  /** Trial n's plan; undefined when the search has no more trials. Must depend on n only (resume relies on it). */
  readonly plan: (trial: number) => TrialPlan | undefined;
  readonly runner: TrialRunner;
  readonly store: TrialStore;
  readonly scheduler: SuccessiveHalving;
  readonly objective: Objective;
  /** Trials run at once. @defaultValue 1 */
  readonly parallel?: number;
  /** Trials in all, counting those already in the table (the step budget). @defaultValue unlimited */
  readonly maxTrials?: number;
  /**
   * Wall-clock budget in seconds: no trial starts after it, and a running trial stops after an epoch when the
   * next one would, at that epoch's pace, end past it. @defaultValue unlimited
   */
  readonly budgetSeconds?: number;
  readonly onEvent?: (event: TuneEvent) => void;
  readonly signal?: AbortSignal;
  /** Clock in ms. @defaultValue performance.now */
  readonly now?: () => number;
}

/** What {@link runTrials} returns: every trial in the table (earlier runs' too) and the best one. */
export interface TuneOutcome {
  readonly records: readonly TrialRecord[];
  readonly best: TrialRecord | undefined;
  /** Trials run now (not read back from the table). */
  readonly ran: number;
  /** The wall-clock budget ran out. */
  readonly outOfTime: boolean;
}

export function objectiveOf(e: Pick<TrialEpoch, 'hitRate' | 'mrr'>, objective: Objective): number {
  return objective === 'hitRate+mrr' ? selectionScore(e.hitRate, e.mrr) : objective === 'mrr' ? e.mrr : e.hitRate;
}

/** Runs the trials (see the module comment). */
export async function runTrials(o: RunTrialsOptions): Promise<TuneOutcome> {
  const now = o.now ?? (() => performance.now());
  const started = now();
  const parallel = o.parallel ?? 1;
  const deadline = o.budgetSeconds !== undefined ? started + o.budgetSeconds * 1000 : Infinity;
  const secondsLeft = () => (deadline - now()) / 1000;
  const outOfTime = () => now() >= deadline;
  const cancel = new AbortController();
  const onAbort = () => cancel.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const { scheduler, store } = o;

  // Trials of an earlier run: their rung values take part in the verdicts of the new ones.
  for (const r of store.records) {
    scheduler.start(r.kind, r.trial, r.defaults);
    for (const e of r.epochs) scheduler.record(r.kind, r.trial, e.epoch, objectiveOf(e, o.objective));
    scheduler.end(r.kind, r.trial);
  }

  /** Verdicts waiting for earlier trials (ordered successive halving). */
  const waiting = new Map<number, { kind: string; epoch: number; resolve: (v: 'continue' | 'stop') => void }>();
  const stoppedAtRung = new Set<number>();
  const stoppedByClock = new Set<number>();
  /** Running trials that have reported no epoch yet, with what aborts each. */
  const firstEpochPending = new Map<number, AbortController>();
  const settle = () => {
    if (outOfTime()) {
      for (const [trial, ac] of firstEpochPending) { stoppedByClock.add(trial); ac.abort(); }
      firstEpochPending.clear();
    }
    for (const [trial, w] of waiting) {
      if (outOfTime()) { stoppedByClock.add(trial); waiting.delete(trial); w.resolve('stop'); continue; }
      const v = scheduler.decide(w.kind, trial, w.epoch);
      if (v === 'wait') continue;
      waiting.delete(trial);
      if (v === 'stop') stoppedAtRung.add(trial);
      w.resolve(v);
    }
  };

  const runOne = async (trial: number, plan: TrialPlan): Promise<void> => {
    const t0 = now();
    let lastReport = t0;
    const own = new AbortController();
    const stopTrial = () => own.abort();
    cancel.signal.addEventListener('abort', stopTrial, { once: true });
    firstEpochPending.set(trial, own);
    const epochs: TrialEpoch[] = [];
    scheduler.start(plan.kind, trial, plan.defaults);
    o.onEvent?.({ type: 'start', trial, plan });
    const context: TrialContext = {
      trial,
      plan,
      signal: own.signal,
      ...(Number.isFinite(deadline) ? { secondsLeft: secondsLeft() } : {}),
      reportEpoch: async (e) => {
        firstEpochPending.delete(trial);
        epochs.push(e);
        scheduler.record(plan.kind, trial, e.epoch, objectiveOf(e, o.objective));
        const rung = scheduler.rungs.includes(e.epoch);
        const pace = now() - lastReport;
        lastReport = now();
        const more = plan.epochs === undefined || e.epoch < plan.epochs;
        let verdict: 'continue' | 'stop';
        if (more && now() + pace > deadline) {
          stoppedByClock.add(trial);
          verdict = 'stop';
        } else {
          verdict = await new Promise<'continue' | 'stop'>((resolve) => {
            waiting.set(trial, { kind: plan.kind, epoch: e.epoch, resolve });
            settle();
          });
        }
        settle(); // this trial's value may be what others wait for
        o.onEvent?.({ type: 'epoch', trial, plan, epoch: e, rung, verdict: stoppedByClock.has(trial) ? 'out-of-time' : verdict });
        return verdict;
      },
    };
    let record: TrialRecord;
    try {
      const kept = await o.runner(context);
      const status: TrialStatus = stoppedAtRung.has(trial) ? 'pruned' : stoppedByClock.has(trial) ? 'out-of-time' : 'completed';
      record = { trial, kind: plan.kind, defaults: plan.defaults, params: plan.params, status, epochs, score: objectiveOf(kept, o.objective), seconds: (now() - t0) / 1000 };
    } catch (err) {
      if (cancel.signal.aborted) throw new CancelledError('tuning');
      record = own.signal.aborted
        ? { trial, kind: plan.kind, defaults: plan.defaults, params: plan.params, status: 'out-of-time', epochs, seconds: (now() - t0) / 1000, error: 'the budget ran out before its first epoch ended' }
        : { trial, kind: plan.kind, defaults: plan.defaults, params: plan.params, status: 'failed', epochs, seconds: (now() - t0) / 1000, error: (err as Error).message };
    } finally {
      firstEpochPending.delete(trial);
      cancel.signal.removeEventListener('abort', stopTrial);
      scheduler.end(plan.kind, trial);
      settle();
    }
    await store.append(record);
    o.onEvent?.({ type: 'end', record, best: bestTrial(store.records) });
  };

  // The clock also releases verdicts waiting on a slow earlier trial once the budget is spent.
  const clock = Number.isFinite(deadline) ? setInterval(settle, 1000) : undefined;
  clock?.unref();
  const running = new Set<Promise<void>>();
  let ran = 0;
  let next = 0;
  let exhausted = false;
  let failure: unknown;
  try {
    for (;;) {
      while (!exhausted && failure === undefined && running.size < parallel && !outOfTime() && !cancel.signal.aborted && (o.maxTrials === undefined || next < o.maxTrials)) {
        const trial = next++;
        if (store.find(trial)) continue;
        const plan = o.plan(trial);
        if (!plan) { exhausted = true; break; }
        ran++;
        const p: Promise<void> = runOne(trial, plan).catch((err: unknown) => { failure ??= err; cancel.abort(); }).finally(() => running.delete(p));
        running.add(p);
      }
      if (running.size === 0) break;
      await Promise.race(running);
    }
  } finally {
    if (clock) clearInterval(clock);
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure;
  if (o.signal?.aborted) throw new CancelledError('tuning');
  return { records: store.records, best: bestTrial(store.records), ran, outOfTime: outOfTime() };
}
