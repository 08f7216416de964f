/**
 * The trials table of a tuning run: `trials.jsonl` in the output directory, one JSON line per ended trial,
 * appended as each ends. A restarted run reads it back and does not run those trials again.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { ParseError } from '../errors.js';
import type { TrialParams } from './search-space.js';

/** Validation figures of a trial at the end of an epoch (or of a trial without epochs). */
export interface TrialEpoch {
  readonly epoch: number;
  /** HR@K (= Recall@K, P@K in the session-based papers) on the validation sessions. */
  readonly hitRate: number;
  readonly mrr: number;
}

/**
 * How a trial ended: `completed` (all its epochs, or the model's own early stopping), `pruned` (stopped at a rung
 * by successive halving), `out-of-time` (stopped at the wall-clock budget; its best epoch so far counts), `failed`.
 */
export type TrialStatus = 'completed' | 'pruned' | 'out-of-time' | 'failed';

/** One row of the trials table. */
export interface TrialRecord {
  /** Trial number within the run (0-based, in the order trials start). */
  readonly trial: number;
  /** Model kind. */
  readonly kind: string;
  /** The kind's default parameters (the reference trial). */
  readonly defaults: boolean;
  /** Searched parameters (empty for the defaults). */
  readonly params: TrialParams;
  readonly status: TrialStatus;
  /** Validation figures after each epoch run. */
  readonly epochs: readonly TrialEpoch[];
  /** The objective on validation of the model the trial kept (its best epoch); absent when failed. */
  readonly score?: number;
  readonly seconds: number;
  /** What went wrong (`failed`). */
  readonly error?: string;
}

/** Reads and appends the trials table. */
export class TrialStore {
  private constructor(readonly path: string, private readonly rows: TrialRecord[], readonly tornLines: number) {}

  /**
   * Opens `path`, reading the trials already recorded (none when the file is missing). A last line cut short
   * (the run was killed while writing it) is ignored and counted in `tornLines`; any other bad line throws.
   */
  static async open(path: string): Promise<TrialStore> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n');
    const rows: TrialRecord[] = [];
    let torn = 0;
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        const row = JSON.parse(line) as TrialRecord;
        if (typeof row.trial !== 'number' || typeof row.kind !== 'string' || typeof row.status !== 'string') throw new Error('not a trial record');
        rows.push(row);
      } catch (err) {
        if (i === lines.length - 1) { torn++; return; }
        throw new ParseError(`${path}:${i + 1}: not a trial record (${(err as Error).message}); the trials table is damaged: fix or delete that line, or tune into a new --out`, { context: { file: path, line: i + 1 } });
      }
    });
    // Later rows are appended: the cut line goes, or the next row would be glued onto it.
    if (torn > 0) await writeFile(path, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    return new TrialStore(path, rows, torn);
  }

  /** Recorded trials, in the order they ended. */
  get records(): readonly TrialRecord[] {
    return this.rows;
  }

  /** The record of trial `n`, if it ended in an earlier or this run. */
  find(trial: number): TrialRecord | undefined {
    return this.rows.find((r) => r.trial === trial);
  }

  /** Appends an ended trial (one line, written whole). */
  async append(row: TrialRecord): Promise<void> {
    this.rows.push(row);
    await appendFile(this.path, JSON.stringify(row) + '\n');
  }
}

/** The best trial: highest score; ties go to the lower trial number (the defaults come first). */
export function bestTrial(rows: readonly TrialRecord[]): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const r of rows) {
    if (r.score === undefined || r.status === 'failed' || r.status === 'pruned') continue;
    if (!best || r.score > best.score! || (r.score === best.score && r.trial < best.trial)) best = r;
  }
  return best;
}
