import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { ModelFormatError, NextclickError } from '../errors.js';

/** Format version of model directories written by this nextclick. */
export const MODEL_FORMAT_VERSION = 1;

/** `model.json`, the manifest every saved model directory has. */
export interface ModelManifest {
  readonly format: 'nextclick.model';
  readonly version: number;
  /** Model kind, e.g. `sr`, `vsknn`, `gru4rec`; selects the loader. */
  readonly kind: string;
  /** Kind-specific configuration (hyper-parameters). */
  readonly config: Record<string, unknown>;
  /** ISO time of saving. */
  readonly createdAt: string;
  /** Number of items in `vocabulary.json`. */
  readonly itemCount: number;
  /** Training metrics (loss, validation MRR, events/s...). */
  readonly metrics?: Record<string, unknown>;
  /** Free-form label used as `modelVersion` in emitted recommendations. */
  readonly label?: string;
}

/**
 * Resolves `name` inside `dir` and refuses anything that would leave it (absolute paths, `..`), so a
 * tampered manifest cannot make the loader read or write elsewhere.
 */
export function safeJoin(dir: string, name: string): string {
  if (isAbsolute(name) || normalize(name).split(/[\\/]/).includes('..')) {
    throw new NextclickError('UNSAFE_PATH', `refusing path "${name}": model files must stay inside the model directory ${dir}`);
  }
  const full = resolve(dir, name);
  const rel = relative(resolve(dir), full);
  if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    throw new NextclickError('UNSAFE_PATH', `refusing path "${name}": model files must stay inside the model directory ${dir}`);
  }
  return full;
}

export async function writeManifest(dir: string, manifest: Omit<ModelManifest, 'format' | 'version' | 'createdAt'>): Promise<ModelManifest> {
  await mkdir(dir, { recursive: true });
  const full: ModelManifest = { format: 'nextclick.model', version: MODEL_FORMAT_VERSION, createdAt: new Date().toISOString(), ...manifest };
  await writeJsonAtomic(join(dir, 'model.json'), full);
  return full;
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new NextclickError('FILE_NOT_FOUND', `${dir} is not a model directory (no model.json); train one with \`nextclick train --out ${dir}\``, { cause: err });
  }
  let m: Partial<ModelManifest>;
  try {
    m = JSON.parse(text) as Partial<ModelManifest>;
  } catch (err) {
    throw new ModelFormatError(`${path} is not valid JSON`, { cause: err });
  }
  if (m.format !== 'nextclick.model' || typeof m.kind !== 'string') throw new ModelFormatError(`${path} is not a nextclick model manifest`);
  if (typeof m.version !== 'number' || m.version > MODEL_FORMAT_VERSION) {
    throw new ModelFormatError(`${path} has format version ${String(m.version)}; this nextclick reads up to ${MODEL_FORMAT_VERSION}. Upgrade nextclick.`);
  }
  return m as ModelManifest;
}

/** Writes JSON via a temporary file and rename, so a crash never leaves a half-written file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value));
  await rename(tmp, path);
}

export async function readJson<T>(path: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    throw new ModelFormatError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
