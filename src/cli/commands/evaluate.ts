import { writeFile } from 'node:fs/promises';
import { baselineKinds } from '../../baselines/index.js';
import { readClickLog, type ClickLogOptions } from '../../data/index.js';
import { NextclickError } from '../../errors.js';
import { fingerprintFile, type DataFingerprint } from '../../eval/data-fingerprint.js';
import { renderHtmlReport } from '../../eval/html-report.js';
import { evaluateReplay, type EvaluationResult } from '../../eval/replay-evaluator.js';
import { formatComparison, formatEvaluation } from '../../eval/report.js';
import { evaluateServing } from '../../eval/serving-evaluator.js';
import { registeredModelKinds } from '../../scoring/model-registry.js';
import type { TiePolicy } from '../../scoring/top-k.js';
import { CliUsageError, numberOption, requiredString, stringOption, type CliCommand } from '../command.js';
import { checkModelSpecs, commandLine, corpusCounts, openEvaluationModels, parseModelSpecs, type EvaluationModel } from '../evaluate-models.js';
import { loadModelPackages } from '../trainers.js';
import { logReadOptions, parseParamList, requireEvents } from './train.js';

/** Parses `--k 1,5,10,20` (or one number). */
export function parseCutoffs(raw: string | undefined, fallback: number[] = [1, 5, 10, 20]): number[] {
  if (raw === undefined) return fallback;
  const ks = raw.split(',').map((s) => Number(s.trim()));
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) throw new CliUsageError(`--k expects integers ≥ 1 separated by commas, got "${raw}"`);
  return ks;
}

const usage = `
nextclick evaluate --model DIR|KIND[,DIR|KIND...] --test FILE [--train FILE] [options]

  --model SPEC        a saved model directory, or a baseline kind (${baselineKinds.join(', ')}) trained now on --train,
                      with optional parameters after colons (vsknn:variant=session-rec:k=200). Several models:
                      a comma list or a repeated --model; they are evaluated on the same test log, side by side
  --model-dir DIR     a saved model directory (repeatable, comma list); same as --model DIR
  --train FILE        training log: needed for KIND; for DIR it adds popularity-bias measures
  --test FILE         test log (sessions contiguous); after each event the next item of its session is predicted
  --format NAME       format of both logs: tsv (default), srgnn, yoochoose, ...
  --test-format NAME  format of the test log if it differs
  --k LIST            cut-offs, comma-separated (default 1,5,10,20; 1,5,10,20,50 with --report)
  --tie POLICY        conservative (default) | average | optimistic: how ties with the target count
  --param key=value   hyper-parameter for every KIND trained on the fly (repeatable)
  --serving           replay through the serving path (micro-batching, the model's own top-K such as ANN
                      candidates) and measure latency per event; ranks come from the served top-K list
  --sessions N        with --serving: sessions replayed at once, each waiting for its answers (default 64)
  --report FILE       also write a self-contained HTML report (charts, command, data fingerprint)
  --skip-bad-lines    skip and count unparsable lines instead of stopping at the first
  --quiet             no progress bar
  --json              print the result as one JSON object (several models: {"ok":true,"results":[...]})

A test log with no events, or whose next items are all unknown to a model, is an error (exit 2); when
more than half of them are unknown a warning says so.
`;

/** Share of test targets unknown to the model above which evaluate warns. */
const UNKNOWN_TARGETS_WARNING = 0.5;

export const command: CliCommand = {
  name: 'evaluate',
  summary: 'replay a test log through a model and report HR/MRR/NDCG@K',
  usage,
  async help() {
    await import('../../baselines/index.js');
    const failure = await loadModelPackages();
    return `${usage}\nSaved model kinds it loads (--model DIR): ${registeredModelKinds().join(', ')}${failure !== undefined ? ` (neural models unavailable: ${failure})` : ''}\n`;
  },
  options: {
    model: { type: 'string', multiple: true },
    'model-dir': { type: 'string', multiple: true },
    train: { type: 'string' },
    test: { type: 'string' },
    format: { type: 'string' },
    'test-format': { type: 'string' },
    k: { type: 'string' },
    tie: { type: 'string' },
    param: { type: 'string', multiple: true },
    serving: { type: 'boolean' },
    sessions: { type: 'string' },
    report: { type: 'string' },
    quiet: { type: 'boolean' },
    'skip-bad-lines': { type: 'boolean' },
  },
  async run(values, io) {
    const specs = parseModelSpecs([...((values['model'] as string[] | undefined) ?? []), ...((values['model-dir'] as string[] | undefined) ?? [])]);
    const testPath = requiredString(values, 'test');
    const trainPath = stringOption(values, 'train');
    const trainRead = logReadOptions(values);
    const testRead = logReadOptions(values, stringOption(values, 'test-format') !== undefined ? 'test-format' : 'format');
    const reportPath = stringOption(values, 'report');
    const cutoffs = parseCutoffs(stringOption(values, 'k'), reportPath !== undefined ? [1, 5, 10, 20, 50] : undefined);
    const tie = (stringOption(values, 'tie') ?? 'conservative') as TiePolicy;
    if (!['conservative', 'average', 'optimistic'].includes(tie)) throw new CliUsageError(`--tie must be conservative, average or optimistic, got "${tie}"`);
    const serving = values['serving'] === true;
    const concurrentSessions = numberOption(values, 'sessions', 64, (n) => Number.isInteger(n) && n >= 1);
    if (!serving && values['sessions'] !== undefined) throw new CliUsageError('--sessions applies to --serving only');
    if (serving && values['tie'] !== undefined) throw new CliUsageError('--tie applies to replay; --serving ranks by the served top-K list');
    const params = parseParamList(values['param']);
    const json = values['json'] === true;
    const progress = values['quiet'] !== true && !json;

    // Inputs are checked before any model loads (and its backend with it).
    await checkModelSpecs(specs, trainPath);
    await requireEvents(testPath, testRead, 'test log');
    if (trainPath !== undefined) await requireEvents(trainPath, trainRead, 'training log');

    const { models, corpus } = await openEvaluationModels(specs, { ...(trainPath !== undefined ? { trainPath } : {}), read: trainRead, params, io, quiet: json });
    const results: EvaluationResult[] = [];
    const warnings: string[][] = [];
    try {
      for (const m of models) {
        const r = await evaluateOne(m, testPath, testRead, { cutoffs, tie, progress, serving, concurrentSessions });
        warnings.push(overlapWarnings(r, testPath, m.label));
        results.push(r);
      }
    } finally {
      for (const m of models) await m.scorer.dispose?.();
    }
    for (const w of warnings.flat()) io.stderr.write(`nextclick: warning: ${w}\n`);
    const extras = (m: EvaluationModel, i: number) => ({ ...(m.params ? { params: m.params } : {}), ...(m.trainSeconds !== undefined ? { trainSeconds: m.trainSeconds } : {}), warnings: warnings[i]! });
    if (reportPath !== undefined) {
      const first = results[0]!;
      const data: DataFingerprint[] = [];
      if (trainPath !== undefined) data.push(await fingerprintFile(trainPath, 'train', corpus ? corpusCounts(corpus) : {}));
      data.push(await fingerprintFile(testPath, 'test', { events: first.events, sessions: first.sessions }));
      const notes = models.filter((m) => m.params && Object.keys(m.params).length > 0).map((m) => `${m.label}: parameters ${JSON.stringify(m.params)}`);
      // Environment that changes serving (exact / ANN top-k) is part of the command.
      const env = ['NEXTCLICK_SCORING', 'NEXTCLICK_ANN_CANDIDATES'].filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]!} `).join('');
      await writeFile(reportPath, renderHtmlReport({ command: env + commandLine('evaluate', values), data, results, notes }));
    }
    if (json) {
      const body = results.length === 1 ? { ...results[0]!, ...extras(models[0]!, 0) } : { results: results.map((r, i) => ({ ...r, ...extras(models[i]!, i) })) };
      io.stdout.write(JSON.stringify({ ok: true, ...body, ...(reportPath !== undefined ? { report: reportPath } : {}) }) + '\n');
    } else {
      io.stdout.write(results.map(formatEvaluation).join('\n'));
      if (results.length > 1) io.stdout.write(`\n${formatComparison(results, cutoffs.includes(20) ? 20 : cutoffs[cutoffs.length - 1])}`);
      if (reportPath !== undefined) io.stdout.write(`report written to ${reportPath}\n`);
    }
    return 0;
  },
};

/** Evaluates one model on the test log, by replay (full score rows) or through the serving path. */
function evaluateOne(m: EvaluationModel, testPath: string, testRead: ClickLogOptions, o: { cutoffs: number[]; tie: TiePolicy; progress: boolean; serving: boolean; concurrentSessions: number }): Promise<EvaluationResult> {
  const events = readClickLog(testPath, testRead);
  const common = { cutoffs: o.cutoffs, label: m.label, progress: o.progress, ...(m.popularity ? { popularity: m.popularity } : {}) };
  return o.serving
    ? evaluateServing(m.scorer, m.vocabulary, events, { ...common, concurrentSessions: o.concurrentSessions })
    : evaluateReplay(m.scorer, m.vocabulary, events, { ...common, tiePolicy: o.tie });
}

/**
 * Checks that the test log and the model share items: none at all is an error (every metric would be a
 * meaningless zero); a majority of unknown next items is returned as a warning.
 */
export function overlapWarnings(r: EvaluationResult, testPath: string, model: string): string[] {
  const targets = r.predictions + r.skippedOovTargets;
  if (targets === 0) {
    throw new NextclickError('INVALID_INPUT', `test log ${testPath} has no next-item prediction to make: every session has a single event (are sessions contiguous, and is --format right?)`, { context: { file: testPath } });
  }
  if (r.predictions === 0) {
    throw new NextclickError('INVALID_INPUT', `test log ${testPath} shares no items with the model ${model}: all ${targets} next items are unknown to it, so every metric would be 0. Check that both come from the same dataset and id space (--format, prepare's output)`, { context: { file: testPath } });
  }
  const unknown = r.skippedOovTargets / targets;
  return unknown > UNKNOWN_TARGETS_WARNING
    ? [`${model}: ${(unknown * 100).toFixed(1)}% of the test log's next items (${r.skippedOovTargets} of ${targets}) are unknown to the model and not counted; metrics cover the other ${r.predictions}`]
    : [];
}
