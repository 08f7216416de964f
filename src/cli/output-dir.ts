import { lstat, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { InvalidOptionError } from '../errors.js';

/** A claimed `--out` path: call `commit` once the new output is complete, `abandon` when writing it failed. */
export interface ClaimedOutput {
  /** Where a replaced output was moved while the new one is written (undefined when nothing was replaced). */
  readonly movedAside?: string;
  /** Maps a path inside the old output (e.g. `--from` pointing into it) to where it now is, while writing. */
  relocate(path: string): string;
  /** Whether `path` is the old output or inside it (gone once the new output is committed). */
  replaces(path: string): boolean;
  /** The new output is complete: deletes the replaced one. */
  commit(): Promise<void>;
  /** Writing failed: deletes the partial new output and puts the replaced one back. */
  abandon(): Promise<void>;
}

const nothingReplaced: ClaimedOutput = { relocate: (p) => p, replaces: () => false, commit: async () => {}, abandon: async () => {} };

async function kindOf(path: string): Promise<'missing' | 'file' | 'empty-dir' | 'model-dir' | 'other-dir'> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return 'missing';
    throw err;
  }
  if (!st.isDirectory()) return 'file';
  const entries = await readdir(path);
  if (entries.length === 0) return 'empty-dir';
  // A model directory, or what a killed training run left (its per-epoch checkpoint).
  if (entries.includes('model.json')) return 'model-dir';
  if (entries.includes('checkpoint') && (await readdir(join(path, 'checkpoint')).catch(() => [] as string[])).includes('model.json')) return 'model-dir';
  return 'other-dir';
}

/**
 * Claims the `--out` path of a command that writes a model directory. A missing path or an empty directory is
 * used as it is. An existing file or model directory is refused unless `force`; with `force` it is moved aside
 * while the new output is written, then deleted (or put back if writing fails), so no old file is ever left
 * beside the new ones. A non-empty directory that is not a model directory is never replaced.
 */
export async function claimOutputDir(out: string, force: boolean): Promise<ClaimedOutput> {
  const kind = await kindOf(out);
  if (kind === 'missing' || kind === 'empty-dir') return nothingReplaced;
  if (kind === 'other-dir') {
    throw new InvalidOptionError('out', `--out ${out} is a non-empty directory that is not a model directory (no model.json); refusing to replace it (even with --force): choose a new path`);
  }
  const what = kind === 'file' ? 'is an existing file' : 'already holds a model';
  if (!force) throw new InvalidOptionError('out', `--out ${out} ${what}; pass --force to replace it, or choose another path`);
  const aside = `${out.replace(/[\\/]+$/, '')}.replaced-${process.pid}`;
  await rename(out, aside);
  const oldRoot = resolve(out);
  return {
    movedAside: aside,
    relocate(path) {
      const full = resolve(path);
      if (full === oldRoot) return aside;
      return full.startsWith(oldRoot + sep) ? join(aside, full.slice(oldRoot.length + 1)) : path;
    },
    replaces(path) {
      const full = resolve(path);
      return full === oldRoot || full.startsWith(oldRoot + sep);
    },
    async commit() {
      await rm(aside, { recursive: true, force: true });
    },
    async abandon() {
      await rm(out, { recursive: true, force: true });
      await rename(aside, out);
    },
  };
}
