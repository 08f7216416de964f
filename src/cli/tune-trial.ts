/**
 * One trial of `nextclick tune`: trains a model kind with the trial's parameters on the older training
 * sessions and validates it on the newest ones (the split `nextclick train` holds out), reporting each epoch.
 * Runs in a child process per trial (tune-trial-process.ts), or in the tuning process when run from the sources.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildCorpus, type SessionCorpus } from '../baselines/corpus.js';
import { isBaselineKind, trainBaseline } from '../baselines/index.js';
import { readSessions, type ClickLogOptions } from '../data/index.js';
import { splitValidation } from '../data/validation-split.js';
import { CancelledError, InvalidOptionError, NextclickError } from '../errors.js';
import { evaluateNextItem } from '../eval/next-item-accuracy.js';
import type { TrialEpoch } from '../tuning/trial-store.js';
import type { TrialContext, TrialRunner } from '../tuning/tuner.js';
import type { CliIo } from './command.js';
import { loadModelPackages, trainers } from './trainers.js';

/** Cut-off of the validation figures (the trainers' early stopping uses HR@20 and MRR@20). */
export const VALIDATION_CUTOFF = 20;
/** Most validation predictions per check, as the neural trainers' `validationMaxEvents` default. */
export const VALIDATION_MAX_PREDICTIONS = 20000;

/** Everything a trial needs, as plain data (sent to a child process). */
export interface TrialJob {
  readonly trial: number;
  readonly kind: string;
  /** `--param` values: the searched ones, plus fixed ones (epochs, validationFraction, a time limit). */
  readonly params: Record<string, string>;
  readonly trainPath: string;
  readonly readOptions: ClickLogOptions;
  /** Share of the newest training sessions validated on. */
  readonly validationFraction: number;
  /** Where a neural trial saves its model. */
  readonly outDir: string;
}

type ReportEpoch = (e: TrialEpoch) => Promise<'continue' | 'stop'>;

/** Runs a trial here; resolves with the validation figures of the model it kept. */
export async function runTrialJob(job: TrialJob, reportEpoch: ReportEpoch, signal?: AbortSignal): Promise<TrialEpoch> {
  if (isBaselineKind(job.kind)) return runBaselineTrial(job);
  if (!trainers[job.kind]) {
    const failure = await loadModelPackages();
    if (!trainers[job.kind]) throw new InvalidOptionError('model', `model kind "${job.kind}" is not available${failure ? ` (${failure})` : ''}`);
  }
  const trainer = await trainers[job.kind]!();
  // What an interrupted run left of this trial goes: it trains afresh.
  await rm(job.outDir, { recursive: true, force: true });
  const silent: CliIo = { stdout: process.stdout, stderr: process.stderr };
  const result = await trainer.train({
    trainPath: job.trainPath,
    readOptions: job.readOptions,
    outDir: job.outDir,
    params: { ...job.params, validationFraction: String(job.validationFraction) },
    json: true,
    ...(signal ? { signal } : {}),
    onEpoch: (r) => (r.validation ? reportEpoch({ epoch: r.epoch, hitRate: r.validation.recall, mrr: r.validation.mrr }) : 'continue'),
  }, silent);
  const m = result.metrics ?? {};
  const hitRate = m['validationRecall20'];
  const mrr = m['validationMrr20'];
  if (typeof hitRate !== 'number' || typeof mrr !== 'number') throw new NextclickError('INTERNAL', `${job.kind} trained without validation figures: the log has too few sessions to hold out ${job.validationFraction} of them`);
  return { epoch: typeof m['bestEpoch'] === 'number' ? m['bestEpoch'] : 0, hitRate, mrr };
}

/** Fits a baseline on the older sessions and validates it on the newest (over the whole log's vocabulary, as the neural trainers do). */
async function runBaselineTrial(job: TrialJob): Promise<TrialEpoch> {
  const corpus = await buildCorpus(readSessions(job.trainPath, job.readOptions));
  const { train, validation } = splitValidation(corpus, job.validationFraction, VALIDATION_MAX_PREDICTIONS);
  if (!validation) throw new InvalidOptionError('valid-fraction', `${job.trainPath} has too few sessions to hold out ${job.validationFraction} of them for validation`);
  const sessions = train.offsets.length - 1;
  const itemCounts = new Float64Array(corpus.vocabulary.size);
  for (const i of train.items) itemCounts[i]!++;
  const older: SessionCorpus = { vocabulary: corpus.vocabulary, offsets: train.offsets, items: train.items, endTimes: corpus.endTimes.subarray(0, sessions), itemCounts };
  const scorer = trainBaseline(job.kind, older, job.params);
  const m = await evaluateNextItem(scorer, validation, { cutoff: VALIDATION_CUTOFF, maxPredictions: VALIDATION_MAX_PREDICTIONS });
  return { epoch: 0, hitRate: m.recall, mrr: m.mrr };
}

/** Runs every trial in this process, one after the other (from the TypeScript sources, where there is no script to fork). */
function inProcessRunner(job: (c: TrialContext) => TrialJob): TrialRunner {
  return (c) => runTrialJob(job(c), (e) => c.reportEpoch(e), c.signal);
}

/** Messages between the tuning process and a trial's child process. */
export type ToTrialProcess = { readonly type: 'run'; readonly job: TrialJob } | { readonly type: 'verdict'; readonly verdict: 'continue' | 'stop' };
export type FromTrialProcess =
  | { readonly type: 'epoch'; readonly epoch: TrialEpoch }
  | { readonly type: 'done'; readonly kept: TrialEpoch }
  | { readonly type: 'error'; readonly message: string; readonly code?: string };

/** The child-process script next to this module, or undefined when running from the TypeScript sources. */
export function trialProcessScript(): string | undefined {
  const path = fileURLToPath(new URL('./tune-trial-process.js', import.meta.url));
  return existsSync(path) ? path : undefined;
}

/**
 * The runner of `tune`: every trial in a fresh child process with one compute thread, whatever `parallel` is,
 * so a trial's figures do not depend on what ran before it in the same process nor on thread counts (native
 * TensorFlow sums in another order on more threads). From the TypeScript sources (tests) there is no script
 * to fork: trials then run in this process, one at a time.
 */
export function trialRunner(job: (c: TrialContext) => TrialJob, parallel: number): TrialRunner {
  const script = trialProcessScript();
  if (script) return childProcessRunner(job, script);
  if (parallel > 1) throw new InvalidOptionError('parallel', 'parallel trials need the built package (tune-trial-process.js is missing): run npm run build, or use --parallel 1');
  return inProcessRunner(job);
}

/** Most stderr kept from a trial process, for the failure message. */
const STDERR_TAIL_CHARS = 2000;

/**
 * Runs each trial in a child process of its own (one TensorFlow.js instance and one compute thread each), so
 * trials use all cores. The child reports epochs over IPC and waits for each verdict.
 */
function childProcessRunner(job: (c: TrialContext) => TrialJob, script: string): TrialRunner {
  return (c) => new Promise<TrialEpoch>((resolve, reject) => {
    const child = fork(script, [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Its own process group: Ctrl-C reaches the tuning process only, which stops the trials itself (a trial
      // killed by the terminal's SIGINT first would be recorded as failed). It exits when its parent goes.
      detached: true,
      // One compute thread per trial: parallelism comes from running trials side by side.
      env: { ...process.env, OMP_NUM_THREADS: '1', TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' },
    });
    let stderr = '';
    let settled = false;
    child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-STDERR_TAIL_CHARS); });
    const finish = (err: Error | undefined, kept?: TrialEpoch) => {
      if (settled) return;
      settled = true;
      c.signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(kept!);
    };
    const onAbort = () => { child.kill(); finish(new CancelledError(`trial ${c.trial}`)); };
    c.signal.addEventListener('abort', onAbort, { once: true });
    child.on('message', (m: FromTrialProcess) => {
      if (m.type === 'epoch') {
        void c.reportEpoch(m.epoch).then((verdict) => { if (child.connected) child.send({ type: 'verdict', verdict } satisfies ToTrialProcess); });
      } else if (m.type === 'done') {
        finish(undefined, m.kept);
      } else {
        finish(new NextclickError(m.code === 'INVALID_OPTION' ? 'INVALID_OPTION' : 'INTERNAL', m.message));
      }
    });
    child.on('error', (err) => finish(err));
    child.on('exit', (code, sig) => finish(new NextclickError('INTERNAL', `trial ${c.trial} process exited (${sig ?? `code ${String(code)}`}) before it finished${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`)));
    child.send({ type: 'run', job: job(c) } satisfies ToTrialProcess);
  });
}
