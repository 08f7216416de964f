import { stat } from 'node:fs/promises';
import { buildCorpus, sessionCount, type SessionCorpus } from '../baselines/corpus.js';
import { baselineKinds, isBaselineKind, trainBaseline } from '../baselines/index.js';
import { readSessions, type ClickLogOptions } from '../data/index.js';
import { readManifest } from '../persistence/model-dir.js';
import { loadModel, registeredModelKinds } from '../scoring/model-registry.js';
import type { Scorer } from '../scoring/scorer.js';
import type { ItemVocabulary } from '../vocab/item-vocabulary.js';
import { CliUsageError, type CliIo } from './command.js';
import { loadModelPackages } from './trainers.js';

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** A model ready to evaluate. */
export interface EvaluationModel {
  readonly label: string;
  readonly scorer: Scorer;
  readonly vocabulary: ItemVocabulary;
  readonly popularity?: Float64Array;
  /** Parameters of a baseline trained on the fly (from `KIND:key=value` and `--param`). */
  readonly params?: Record<string, string>;
  /** Seconds to read the training log and train (baselines trained on the fly). */
  readonly trainSeconds?: number;
}

/**
 * Splits `--model` values into model specs: each value may hold several, comma-separated. A spec is a saved
 * model directory, or a baseline kind with optional parameters after colons (`vsknn:variant=session-rec:k=200`).
 */
export function parseModelSpecs(values: readonly string[]): string[] {
  const specs = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0) throw new CliUsageError('--model is required: a model directory or a baseline kind (several as a comma list or repeated --model)');
  return specs;
}

function kindParams(spec: string): { kind: string; params: Record<string, string> } {
  const [kind, ...parts] = spec.split(':');
  const params: Record<string, string> = {};
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new CliUsageError(`model "${spec}": parameters after the kind are key=value separated by colons, got "${p}"`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return { kind: kind!, params };
}

/**
 * Checks the model specs without loading anything (before the logs are read): each is a directory or a baseline
 * kind, and baselines have a training log to learn from.
 */
export async function checkModelSpecs(specs: readonly string[], trainPath: string | undefined): Promise<void> {
  for (const spec of specs) {
    if (await isDirectory(spec)) continue;
    const { kind } = kindParams(spec);
    if (!isBaselineKind(kind)) throw new CliUsageError(`--model "${spec}" is neither a model directory nor a baseline kind (${baselineKinds.join(', ')}); train a directory with \`nextclick train --out DIR\``);
    if (trainPath === undefined) throw new CliUsageError(`--train is required to train "${kind}" on the fly (or pass a saved model directory)`);
  }
}

/**
 * Opens the models to evaluate, in order: saved directories are loaded (any registered kind, neural packages
 * loaded on demand); baseline kinds are trained now on `trainPath`, whose corpus is built once and shared.
 * The training corpus also gives saved models their popularity-bias measures.
 */
export async function openEvaluationModels(specs: readonly string[], opts: { trainPath?: string; read: ClickLogOptions; params: Record<string, string>; io: CliIo; quiet: boolean }): Promise<{ models: EvaluationModel[]; corpus?: SessionCorpus }> {
  let corpus: SessionCorpus | undefined;
  let corpusSeconds = 0;
  const trainCorpus = async () => {
    if (corpus) return corpus;
    const t0 = performance.now();
    corpus = await buildCorpus(readSessions(opts.trainPath!, opts.read));
    corpusSeconds = (performance.now() - t0) / 1000;
    return corpus;
  };
  const models: EvaluationModel[] = [];
  try {
    for (const spec of specs) {
      if (await isDirectory(spec)) {
        if (Object.keys(opts.params).length > 0 && specs.length === 1) throw new CliUsageError('--param applies to a model trained on the fly, not to a saved directory');
        await import('../baselines/index.js');
        const manifest = await readManifest(spec);
        if (!registeredModelKinds().includes(manifest.kind)) {
          const failure = await loadModelPackages();
          if (failure !== undefined && !opts.quiet) opts.io.stderr.write(`nextclick: ${failure}\n`);
        }
        const loaded = await loadModel(spec);
        // A saved model's popularity is counted over its own vocabulary, so it gets a corpus of its own.
        const popularity = opts.trainPath !== undefined ? (await buildCorpus(readSessions(opts.trainPath, opts.read), { vocabulary: loaded.vocabulary })).itemCounts : undefined;
        models.push({ label: `${manifest.kind} (${spec})`, scorer: loaded.scorer, vocabulary: loaded.vocabulary, ...(popularity ? { popularity } : {}) });
        continue;
      }
      const { kind, params: own } = kindParams(spec);
      if (!isBaselineKind(kind)) throw new CliUsageError(`--model "${spec}" is neither a model directory nor a baseline kind (${baselineKinds.join(', ')})`);
      if (opts.trainPath === undefined) throw new CliUsageError(`--train is required to train "${kind}" on the fly (or pass a saved model directory)`);
      const c = await trainCorpus();
      const params = { ...opts.params, ...own };
      const t0 = performance.now();
      const scorer = trainBaseline(kind, c, params);
      models.push({ label: spec, scorer, vocabulary: c.vocabulary, popularity: c.itemCounts, params, trainSeconds: corpusSeconds + (performance.now() - t0) / 1000 });
    }
  } catch (err) {
    for (const m of models) await m.scorer.dispose?.();
    throw err;
  }
  return { models, ...(corpus ? { corpus } : {}) };
}

/** Training-log counts for the data fingerprint. */
export function corpusCounts(c: SessionCorpus): { events: number; sessions: number } {
  return { events: c.items.length, sessions: sessionCount(c) };
}

/** A shell-quoted command line equivalent to the parsed options (options in the order given, repeats kept). */
export function commandLine(command: string, values: Record<string, unknown>): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const parts = ['nextclick', command];
  for (const [key, v] of Object.entries(values)) {
    if (v === undefined || v === false) continue;
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one === true) parts.push(`--${key}`);
      else if (one !== false) parts.push(`--${key}`, q(String(one)));
    }
  }
  return parts.join(' ');
}
