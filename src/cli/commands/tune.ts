import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { buildCorpus, sessionCount } from '../../baselines/corpus.js';
import { isBaselineKind, trainBaseline } from '../../baselines/index.js';
import { readSessions } from '../../data/index.js';
import { CancelledError, InvalidOptionError } from '../../errors.js';
import { fingerprintFile } from '../../eval/data-fingerprint.js';
import { formatDuration, parseDurationSeconds } from '../../tuning/budget.js';
import { renderTuneReport } from '../../tuning/report.js';
import { checkSearchSpace, describeSearchSpace, paramStrings, sampleParams, trialSeed } from '../../tuning/search-space.js';
import { rungEpochs, SuccessiveHalving } from '../../tuning/successive-halving.js';
import { TrialStore, type TrialRecord } from '../../tuning/trial-store.js';
import { objectiveName, runTrials, type Objective, type TrialContext, type TrialPlan, type TuneEvent } from '../../tuning/tuner.js';
import { CliUsageError, numberOption, requiredString, stringOption, type CliCommand, type CliIo } from '../command.js';
import { commandLine } from '../evaluate-models.js';
import { trialRunner, VALIDATION_CUTOFF, VALIDATION_MAX_PREDICTIONS, type TrialJob } from '../tune-trial.js';
import { autoKinds, tunableKinds } from '../tune-spaces.js';
import { logReadOptions, requireEvents } from './train.js';

/** Files of a tuning directory. */
const SETTINGS_FILE = 'tune.json';
const TRIALS_FILE = 'trials.jsonl';
const BEST_FILE = 'best-params.json';
const MODEL_DIR = 'model';
const TRIALS_DIR = 'trials';

const usage = `
nextclick tune --model KIND|auto --train FILE --out DIR (--budget DURATION | --trials N) [options]

Searches a model's parameters on validation: the newest training sessions, held out as \`nextclick train\`
holds them out (never a test log). Trial 0 of each kind is its defaults, so the best trial is at least as
good on validation. Neural trials are compared after epochs 1, 3, 9... (successive halving: only the best
1/eta at each rung go on). Resumable: run the same command again and the trials in DIR/trials.jsonl are kept.

  --model KIND        gru4rec | transformer | vsknn | sr | auto (auto: all four, the best kind wins)
  --train FILE        training log (sessions contiguous, in time order, e.g. a prepared train.tsv)
  --format NAME       log format: tsv (default), srgnn, yoochoose, diginetica, csv, jsonl, otto...
  --out DIR           tuning directory: trials.jsonl, best-params.json, model/ (the best model, loadable by
                      evaluate, stream and replay), tune.json (settings, for resume)
  --budget DURATION   wall-clock budget: seconds (120) or a duration (30m, 1h, 1h30m); no trial starts after
                      it, a trial stops after an epoch when the next would end past it, and a neural trial
                      stops mid-epoch at it (a model trained that way counts with its best epoch)
  --trials N          step budget: at most N trials in all (with --parallel 1 or the default ordered
                      verdicts, a run with the same --seed and --trials gives the same trials and results)
  --parallel N        trials run at once, each in a fresh process with one compute thread (default: the
                      number of cores, ${availableParallelism()} here)
  --seed N            seed of the parameter sampling (default 42); the models keep their own seed
  --metric NAME       hr+mrr (default: HR@${VALIDATION_CUTOFF} + MRR@${VALIDATION_CUTOFF}, what the models' early stopping uses),
                      mrr or hr, on the validation sessions
  --eta N             successive-halving factor (default 3)
  --max-epochs N      epochs per neural trial (default: the model's default, 10)
  --valid-fraction F  most of the newest training sessions validated on (default 0.05, as train; never more
                      than hold 20,000 predictions, the most a check scores)
  --async             plain ASHA verdicts (compare with whatever finished; faster, not reproducible)
  --report FILE       also write a self-contained HTML report of the trials (tables and SVG charts)
  --skip-bad-lines    skip and count unparsable lines instead of stopping at the first
  --quiet             no progress lines on stderr
  --json              print the summary as one JSON object on stdout
`;

function spacesHelp(): string {
  const lines = ['Search spaces (trial 0 of each kind is its defaults):'];
  for (const [kind, t] of Object.entries(tunableKinds)) {
    lines.push(`  ${kind}${t.epochs ? ` (epochs: the model's default, ${t.defaultEpochs ?? '?'}; stopped early at rungs)` : ''}`);
    for (const l of describeSearchSpace(t.space, t.notes)) lines.push(`    ${l}`);
  }
  return lines.join('\n');
}

/** Settings that must match for a run to resume in the same directory. */
interface TuneSettings {
  readonly model: string;
  readonly kinds: readonly string[];
  readonly train: { readonly name: string; readonly bytes: number; readonly sha256: string };
  readonly seed: number;
  readonly metric: Objective;
  readonly eta: number;
  readonly maxEpochs: number | null;
  readonly validationFraction: number;
  readonly ordered: boolean;
}

/** What best-params.json holds. */
interface BestParams {
  readonly kind: string;
  readonly trial: number;
  readonly defaults: boolean;
  readonly params: Record<string, unknown>;
  readonly validation: { readonly metric: string; readonly score: number };
  readonly defaultsValidation: Record<string, number>;
  /** The `nextclick train` command that trains this model again. */
  readonly trainCommand: string;
  readonly model: string;
}

export const command: CliCommand = {
  name: 'tune',
  summary: 'search a model\'s parameters (or the model kind) on validation within a time budget',
  usage,
  async help() {
    return `${usage}\n${spacesHelp()}\n`;
  },
  options: {
    model: { type: 'string' },
    train: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    budget: { type: 'string' },
    trials: { type: 'string' },
    parallel: { type: 'string' },
    seed: { type: 'string' },
    metric: { type: 'string' },
    eta: { type: 'string' },
    'max-epochs': { type: 'string' },
    'valid-fraction': { type: 'string' },
    async: { type: 'boolean' },
    report: { type: 'string' },
    quiet: { type: 'boolean' },
    'skip-bad-lines': { type: 'boolean' },
  },
  async run(values, io) {
    const model = requiredString(values, 'model');
    const trainPath = requiredString(values, 'train');
    const outDir = requiredString(values, 'out');
    if (model !== 'auto' && !tunableKinds[model]) throw new CliUsageError(`--model "${model}" cannot be tuned; choose one of ${[...Object.keys(tunableKinds), 'auto'].join(', ')}`);
    const kinds = model === 'auto' ? autoKinds : [model];
    const budgetRaw = stringOption(values, 'budget');
    const budgetSeconds = budgetRaw !== undefined ? parseDurationSeconds(budgetRaw) : undefined;
    const maxTrials = values['trials'] !== undefined ? numberOption(values, 'trials', 0, (n) => Number.isInteger(n) && n >= 1, 'an integer ≥ 1') : undefined;
    if (budgetSeconds === undefined && maxTrials === undefined) throw new CliUsageError('give a budget: --budget DURATION (e.g. 30m) and/or --trials N');
    const parallel = numberOption(values, 'parallel', availableParallelism(), (n) => Number.isInteger(n) && n >= 1, 'an integer ≥ 1');
    const seed = numberOption(values, 'seed', 42, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
    const metricRaw = stringOption(values, 'metric') ?? 'hr+mrr';
    const metrics: Record<string, Objective> = { 'hr+mrr': 'hitRate+mrr', mrr: 'mrr', hr: 'hitRate' };
    const metric = Object.hasOwn(metrics, metricRaw) ? metrics[metricRaw] : undefined;
    if (!metric) throw new CliUsageError(`--metric must be hr+mrr, mrr or hr, got "${metricRaw}"`);
    const eta = numberOption(values, 'eta', 3, (n) => Number.isInteger(n) && n >= 2, 'an integer ≥ 2');
    const maxEpochs = values['max-epochs'] !== undefined ? numberOption(values, 'max-epochs', 0, (n) => Number.isInteger(n) && n >= 1, 'an integer ≥ 1') : undefined;
    const validationFraction = numberOption(values, 'valid-fraction', 0.05, (n) => n > 0 && n < 0.9, 'a fraction in (0, 0.9)');
    const ordered = values['async'] !== true;
    const reportPath = stringOption(values, 'report');
    const json = values['json'] === true;
    const quiet = values['quiet'] === true;
    const readOptions = logReadOptions(values);
    for (const k of kinds) checkSearchSpace(tunableKinds[k]!.space);

    await requireEvents(trainPath, readOptions, 'training log');
    const fingerprint = await fingerprintFile(trainPath, 'train');
    const settings: TuneSettings = {
      model, kinds, train: { name: fingerprint.name, bytes: fingerprint.bytes, sha256: fingerprint.sha256 }, seed, metric, eta, maxEpochs: maxEpochs ?? null, validationFraction, ordered,
    };
    const resumed = await claimTuneDir(outDir, settings);
    const store = await TrialStore.open(join(outDir, TRIALS_FILE));
    const say = (line: string) => { if (!quiet) io.stderr.write(`tune: ${line}\n`); };
    if (resumed) say(`resuming in ${outDir}: ${store.records.length} trials already run${store.tornLines ? ' (a line cut short by the interruption was dropped)' : ''}`);

    const epochsOf = (kind: string) => maxEpochs ?? tunableKinds[kind]!.defaultEpochs ?? 1;
    const neuralEpochs = kinds.filter((k) => tunableKinds[k]!.epochs).map(epochsOf);
    const scheduler = new SuccessiveHalving({ eta, rungs: rungEpochs(Math.max(1, ...neuralEpochs), eta), ordered });
    const epochField = (kind: string) => (tunableKinds[kind]!.epochs ? { epochs: epochsOf(kind) } : {});
    const plan = (trial: number): TrialPlan => {
      if (trial < kinds.length) return { kind: kinds[trial]!, defaults: true, params: {}, ...epochField(kinds[trial]!) };
      const kind = kinds[(trial - kinds.length) % kinds.length]!;
      return { kind, defaults: false, params: sampleParams(tunableKinds[kind]!.space, trialSeed(seed, trial)), ...epochField(kind) };
    };
    const jobOf = (c: TrialContext): TrialJob => {
      const t = tunableKinds[c.plan.kind]!;
      const fixed: Record<string, string> = {};
      if (t.epochs && maxEpochs !== undefined) fixed['epochs'] = String(maxEpochs);
      if (t.timeLimitParam && c.secondsLeft !== undefined) fixed[t.timeLimitParam] = String(Math.max(1, Math.floor(c.secondsLeft)));
      return { trial: c.trial, kind: c.plan.kind, params: { ...paramStrings(c.plan.params), ...fixed }, trainPath, readOptions, validationFraction, outDir: join(outDir, TRIALS_DIR, String(c.trial)) };
    };
    const runner = trialRunner(jobOf, parallel);
    const keeper = new TrialDirKeeper(join(outDir, TRIALS_DIR), store.records);
    const t0 = performance.now();
    const left = () => (budgetSeconds !== undefined ? `, ${formatDuration(budgetSeconds - (performance.now() - t0) / 1000)} left` : '');
    const metricName = objectiveName(metric, VALIDATION_CUTOFF);
    say(`${kinds.join(', ')} on ${trainPath}: ${metricName} on the newest sessions (at most ${validationFraction * 100}%, at most ${VALIDATION_MAX_PREDICTIONS} predictions); ${parallel} at once; ${budgetSeconds !== undefined ? `budget ${formatDuration(budgetSeconds)}` : ''}${budgetSeconds !== undefined && maxTrials !== undefined ? ', ' : ''}${maxTrials !== undefined ? `at most ${maxTrials} trials` : ''}; rungs at epochs ${scheduler.rungs.join(', ') || 'none'}`);
    const onEvent = (e: TuneEvent) => {
      if (e.type === 'start') say(`trial ${e.trial} ${e.plan.kind} ${e.plan.defaults ? 'defaults' : JSON.stringify(e.plan.params)}`);
      else if (e.type === 'epoch') say(`trial ${e.trial} epoch ${e.epoch.epoch}: HR@${VALIDATION_CUTOFF} ${e.epoch.hitRate.toFixed(4)} MRR@${VALIDATION_CUTOFF} ${e.epoch.mrr.toFixed(4)}${e.rung || e.verdict !== 'continue' ? ` → ${e.verdict === 'stop' ? 'pruned at rung' : e.verdict === 'out-of-time' ? 'stopped: out of time' : 'continues (rung)'}` : ''}${left()}`);
      else {
        const r = e.record;
        say(`trial ${r.trial} ${r.kind} ${r.status}${r.score !== undefined ? ` ${metricName} ${r.score.toFixed(4)}` : ''}${r.error ? `: ${r.error}` : ''} in ${formatDuration(r.seconds)}; best so far: ${e.best ? `trial ${e.best.trial} ${e.best.kind} ${e.best.score!.toFixed(4)}` : 'none'}${left()}`);
      }
    };
    const pendingCleanups: Promise<void>[] = [];
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    let outcome;
    try {
      outcome = await runTrials({
        plan, runner, store, scheduler, objective: metric, parallel, ...(maxTrials !== undefined ? { maxTrials } : {}), ...(budgetSeconds !== undefined ? { budgetSeconds } : {}), signal: ac.signal,
        onEvent: (e) => { onEvent(e); if (e.type === 'end') pendingCleanups.push(keeper.ended(e.record)); },
      });
    } catch (err) {
      if (err instanceof CancelledError) say(`stopped; ${store.records.length} trials are in ${join(outDir, TRIALS_FILE)}: run the same command again to go on`);
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
      await Promise.all(pendingCleanups);
    }
    const best = outcome.best;
    if (!best) throw new InvalidOptionError('train', `no trial produced a model (${outcome.records.filter((r) => r.status === 'failed').map((r) => `trial ${r.trial}: ${r.error}`).slice(0, 3).join('; ') || 'none ran'}); check the log and the budget`);

    const bestParams = await saveBest(outDir, best, outcome.records, { trainPath, readOptions, metricName, format: stringOption(values, 'format'), maxEpochs, validationFraction });
    // The kept trial models are the best of each kind; the best of all is DIR/model now.
    await rm(join(outDir, TRIALS_DIR), { recursive: true, force: true });
    say(`best: trial ${best.trial} ${best.kind} ${best.defaults ? '(defaults)' : JSON.stringify(best.params)} ${metricName} ${best.score!.toFixed(4)} → ${join(outDir, MODEL_DIR)}`);
    if (reportPath !== undefined) {
      await writeFile(reportPath, renderTuneReport({ command: commandLine('tune', values), data: [{ ...fingerprint }], records: outcome.records, best, objective: metric, metricName }));
      say(`report written to ${reportPath}`);
    }
    const counts = (s: string) => outcome.records.filter((r) => r.status === s).length;
    const summary = {
      ok: true, out: outDir, model: join(outDir, MODEL_DIR), best: bestParams, trials: outcome.records.length, ranNow: outcome.ran,
      completed: counts('completed'), pruned: counts('pruned'), outOfTime: counts('out-of-time'), failed: counts('failed'), seconds: (performance.now() - t0) / 1000,
      ...(reportPath !== undefined ? { report: reportPath } : {}),
    };
    if (json) io.stdout.write(JSON.stringify(summary) + '\n');
    else io.stdout.write(`best of ${summary.trials} trials: ${best.kind} trial ${best.trial}, validation ${metricName} ${best.score!.toFixed(4)}; model in ${summary.model}, parameters in ${join(outDir, BEST_FILE)}\n  retrain: ${bestParams.trainCommand}\n`);
    return 0;
  },
};

/**
 * Uses `dir` for a tuning run: a missing or empty directory starts one; a directory of an earlier run with the
 * same settings resumes it (returns true); anything else is refused.
 */
async function claimTuneDir(dir: string, settings: TuneSettings): Promise<boolean> {
  let entries: string[] = [];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
  }
  if (entries.length === 0) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, SETTINGS_FILE), JSON.stringify(settings, null, 2) + '\n');
    return false;
  }
  if (!entries.includes(SETTINGS_FILE)) throw new InvalidOptionError('out', `--out ${dir} is a non-empty directory that holds no tuning run (no ${SETTINGS_FILE}); choose a new path`);
  const saved = JSON.parse(await readFile(join(dir, SETTINGS_FILE), 'utf8')) as TuneSettings;
  const differs = (Object.keys(settings) as (keyof TuneSettings)[]).filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(settings[k]));
  if (differs.length > 0) {
    throw new InvalidOptionError('out', `--out ${dir} holds a tuning run with other settings (${differs.map((k) => `${k}: ${JSON.stringify(saved[k])} then, ${JSON.stringify(settings[k])} now`).join('; ')}); resume it with the same settings or choose a new --out`);
  }
  return true;
}

/**
 * Keeps the saved model of the best trial of each kind in DIR/trials/N and deletes the others' as they end, so a
 * long run does not fill the disk.
 */
class TrialDirKeeper {
  private readonly bestOfKind = new Map<string, TrialRecord>();

  constructor(private readonly root: string, earlier: readonly TrialRecord[]) {
    for (const r of earlier) if (this.beats(r)) this.bestOfKind.set(r.kind, r);
  }

  private beats(r: TrialRecord): boolean {
    if (r.score === undefined || r.status === 'failed' || r.status === 'pruned') return false;
    const b = this.bestOfKind.get(r.kind);
    return !b || r.score > b.score!;
  }

  async ended(r: TrialRecord): Promise<void> {
    if (this.beats(r)) {
      const old = this.bestOfKind.get(r.kind);
      this.bestOfKind.set(r.kind, r);
      if (old) await rm(join(this.root, String(old.trial)), { recursive: true, force: true });
    } else {
      await rm(join(this.root, String(r.trial)), { recursive: true, force: true });
    }
  }
}

/**
 * Writes DIR/model (the best trial's model: a neural trial's saved directory; a baseline fitted again on the
 * whole training log, as `nextclick train` fits it) and DIR/best-params.json.
 */
async function saveBest(dir: string, best: TrialRecord, records: readonly TrialRecord[], o: { trainPath: string; readOptions: ReturnType<typeof logReadOptions>; metricName: string; format: string | undefined; maxEpochs: number | undefined; validationFraction: number }): Promise<BestParams> {
  const modelDir = join(dir, MODEL_DIR);
  const bestFile = join(dir, BEST_FILE);
  const previous = await readFile(bestFile, 'utf8').then((t) => JSON.parse(t) as BestParams).catch(() => undefined);
  const trainParams: Record<string, string> = paramStrings(best.params);
  if (tunableKinds[best.kind]!.epochs) {
    if (o.maxEpochs !== undefined) trainParams['epochs'] = String(o.maxEpochs);
    trainParams['validationFraction'] = String(o.validationFraction);
  }
  if (previous?.trial !== best.trial || previous.kind !== best.kind) {
    await rm(modelDir, { recursive: true, force: true });
    if (isBaselineKind(best.kind)) {
      const corpus = await buildCorpus(readSessions(o.trainPath, o.readOptions));
      await trainBaseline(best.kind, corpus, paramStrings(best.params)).save(modelDir, { metrics: { tunedTrial: best.trial, sessions: sessionCount(corpus) } });
    } else {
      await rename(join(dir, TRIALS_DIR, String(best.trial)), modelDir);
      // The per-epoch checkpoint is the same model or an older epoch of it: not part of the result.
      await rm(join(modelDir, 'checkpoint'), { recursive: true, force: true });
    }
  }
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const trainCommand = ['nextclick train --model', best.kind, '--train', q(o.trainPath), ...(o.format ? ['--format', o.format] : []), ...Object.entries(trainParams).flatMap(([k, v]) => ['--param', q(`${k}=${v}`)]), '--out', 'DIR'].join(' ');
  const body: BestParams = {
    kind: best.kind, trial: best.trial, defaults: best.defaults, params: best.params,
    validation: { metric: o.metricName, score: best.score! },
    defaultsValidation: Object.fromEntries(records.filter((r) => r.defaults && r.score !== undefined).map((r) => [r.kind, r.score!])),
    trainCommand, model: modelDir,
  };
  await writeFile(bestFile, JSON.stringify(body, null, 2) + '\n');
  return body;
}
