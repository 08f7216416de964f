import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionError, ModelFormatError } from '../errors.js';
import { writeManifest, type ModelManifest } from '../persistence/model-dir.js';
import type { Scorer } from '../scoring/scorer.js';
import type { SessionState } from '../sessions/session-state.js';
import { ItemVocabulary } from '../vocab/item-vocabulary.js';
import { readArrayFile, writeArrayFile, type StoredArray } from './array-file.js';

/** The baseline model kinds (the `kind` in `model.json`). */
export type BaselineKind = 'pop' | 'itemknn' | 'vsknn' | 'sr';

/** Name of the binary data file in a baseline's model directory. */
export const BASELINE_DATA_FILE = 'model.bin';

/**
 * Shared scoring plumbing for the baselines. They read `session.items` directly, so `observe` is a no-op and
 * no per-session state is kept. `score` writes into one reused Float32Array (no allocation per call): the
 * returned rows are valid until the next `score` call on this scorer — copy them if you keep them.
 */
export abstract class RowScorer implements Scorer {
  abstract readonly name: BaselineKind;
  readonly itemCount: number;
  private buffer = new Float32Array(0);

  constructor(readonly vocabulary: ItemVocabulary) {
    this.itemCount = vocabulary.size;
  }

  observe(_sessions: readonly SessionState[]): void {
    // Stateless: scoring reads session.items.
  }

  score(sessions: readonly SessionState[]): Float32Array {
    const n = this.itemCount;
    const need = sessions.length * n;
    if (this.buffer.length < need) this.buffer = new Float32Array(need);
    else this.buffer.fill(0, 0, need);
    const out = this.buffer.subarray(0, need);
    for (let i = 0; i < sessions.length; i++) {
      const items = sessions[i]!.items;
      if (items.length > 0) this.scoreInto(items, out, i * n);
    }
    return out;
  }

  /** Scores one session (its items are dense indices, oldest first) into `out[offset .. offset+itemCount)`, which is zeroed. */
  protected abstract scoreInto(items: readonly number[], out: Float32Array, offset: number): void;

  /** Hyper-parameters written to the manifest. */
  abstract config(): Record<string, unknown>;

  /** Arrays written to the data file. */
  protected abstract arrays(): Record<string, StoredArray>;

  /** Saves to a model directory: `model.json`, `vocabulary.json`, `model.bin`. */
  async save(dir: string, extra: { metrics?: Record<string, unknown>; label?: string } = {}): Promise<ModelManifest> {
    await mkdir(dir, { recursive: true });
    await writeArrayFile(join(dir, BASELINE_DATA_FILE), this.arrays());
    await this.vocabulary.save(join(dir, 'vocabulary.json'));
    return writeManifest(dir, { kind: this.name, config: this.config(), itemCount: this.itemCount, ...extra });
  }
}

/** Reads the vocabulary and data arrays of a baseline directory and checks they agree with the manifest. */
export async function readBaselineDir(dir: string, manifest: ModelManifest, expected: Parameters<typeof readArrayFile>[1]): Promise<{ vocabulary: ItemVocabulary; arrays: Record<string, StoredArray> }> {
  const vocabulary = await ItemVocabulary.load(join(dir, 'vocabulary.json'));
  if (vocabulary.size !== manifest.itemCount) {
    throw new ModelFormatError(`${dir}: vocabulary has ${vocabulary.size} items but model.json says ${manifest.itemCount}; the directory is inconsistent, re-train`);
  }
  const arrays = await readArrayFile(join(dir, BASELINE_DATA_FILE), expected);
  return { vocabulary, arrays };
}

/**
 * Turns `--param key=value` strings into typed options, using the defaults object for the type of each key
 * (number, boolean or string). Unknown keys and unparsable values throw, naming the key.
 */
export function parseParams<T extends Record<string, number | boolean | string>>(model: string, defaults: T, params: Record<string, string>): Partial<T> {
  const out: Record<string, number | boolean | string> = {};
  for (const [key, raw] of Object.entries(params)) {
    if (!(key in defaults)) {
      throw new InvalidOptionError(key, `unknown parameter "${key}" for model ${model}; known: ${Object.keys(defaults).join(', ')}`);
    }
    const d = defaults[key];
    if (typeof d === 'number') {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw new InvalidOptionError(key, `parameter ${key} of ${model} must be a number, got "${raw}"`);
      out[key] = v;
    } else if (typeof d === 'boolean') {
      if (raw !== 'true' && raw !== 'false') throw new InvalidOptionError(key, `parameter ${key} of ${model} must be true or false, got "${raw}"`);
      out[key] = raw === 'true';
    } else out[key] = raw;
  }
  return out as Partial<T>;
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInt(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidOptionError(name, `${name} must be an integer in [${min}, ${max}], got ${value}`);
}

/** Throws unless `value` is a finite number in [min, max]. */
export function checkNumber(name: string, value: number, min: number, max = Number.POSITIVE_INFINITY): void {
  if (!Number.isFinite(value) || value < min || value > max) throw new InvalidOptionError(name, `${name} must be a number in [${min}, ${max}], got ${value}`);
}

/** Throws unless `value` is one of `allowed`. */
export function checkEnum<T extends string>(name: string, value: string, allowed: readonly T[]): asserts value is T {
  if (!allowed.includes(value as T)) throw new InvalidOptionError(name, `${name} must be one of ${allowed.join(', ')}, got "${value}"`);
}

/**
 * Inverted index item → occurrences as CSR: `start[i] .. start[i+1]` indexes `values`. Built with a counting
 * sort, so occurrences stay in corpus order.
 */
export function invertedIndex(n: number, keys: Int32Array, valueOf: (pos: number) => number, keep: (pos: number) => boolean = () => true): { start: Int32Array; values: Int32Array } {
  const start = new Int32Array(n + 1);
  for (let p = 0; p < keys.length; p++) if (keep(p)) start[keys[p]! + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n);
  const values = new Int32Array(start[n]!);
  for (let p = 0; p < keys.length; p++) if (keep(p)) values[fill[keys[p]!]!++] = valueOf(p);
  return { start, values };
}

/**
 * Keeps the `limit` largest entries of a sparse accumulator (`touched` lists the indices set in `acc`) and
 * appends them, best first (ties by lower index), to `outIdx`/`outVal`. Resets `acc` for the touched indices.
 */
export function takeTop(acc: Float64Array, touched: Int32Array, touchedCount: number, limit: number, outIdx: number[], outVal: number[]): void {
  const order = Array.from(touched.subarray(0, touchedCount));
  order.sort((a, b) => acc[b]! - acc[a]! || a - b);
  const m = limit > 0 ? Math.min(limit, order.length) : order.length;
  for (let q = 0; q < m; q++) {
    const j = order[q]!;
    if (acc[j]! > 0) { outIdx.push(j); outVal.push(acc[j]!); }
  }
  for (let q = 0; q < touchedCount; q++) acc[touched[q]!] = 0;
}
