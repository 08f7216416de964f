import { InvalidOptionError } from '../errors.js';
import type { Logger } from '../instrumentation/typed-emitter.js';
import { validateClickLogOptions, type ClickLogOptions } from './click-log-options.js';

/** Options of {@link prepare}: how to read the log (ClickLogOptions) plus the preprocessing steps. */
export interface PrepareOptions extends ClickLogOptions {
  /** Folder for train.tsv, test.tsv and stats.json (created if missing; files are overwritten). */
  readonly outDir: string;
  /** A gap longer than this between two events of one session starts a new session, in minutes; `Infinity` turns splitting off. @defaultValue 30 */
  readonly idleMinutes?: number;
  /** Drop an event whose item equals the previous item of its session (after the time sort). @defaultValue false */
  readonly dedupeRepeats?: boolean;
  /** Items with fewer events than this are dropped. @defaultValue 5 */
  readonly minItemSupport?: number;
  /** Sessions with fewer events than this are dropped (train and, after removing unknown items, test). @defaultValue 2 */
  readonly minSessionLength?: number;
  /**
   * Repeat the item-support and session-length filters until neither removes anything. Off by default, as in
   * GRU4Rec/session-rec (one pass: sessions, items, sessions), which can leave a few items below the support.
   * @defaultValue false
   */
  readonly filterUntilStable?: boolean;
  /** Sessions whose split time falls in the last `testDays` days of the log go to test (may be fractional). @defaultValue 1 */
  readonly testDays?: number;
  /** Which time of a session decides its side of the split: its last event (as GRU4Rec) or its first. @defaultValue 'last' */
  readonly splitBy?: 'last' | 'first';
  /** Keep only events of these types (events without a type are always kept), e.g. `['clicks']` for OTTO. @defaultValue all */
  readonly eventTypes?: readonly string[];
  /** Receives one info line per step. @defaultValue no logging */
  readonly logger?: Logger;
}

export const defaultPrepareOptions = {
  idleMinutes: 30,
  dedupeRepeats: false,
  minItemSupport: 5,
  minSessionLength: 2,
  filterUntilStable: false,
  testDays: 1,
  splitBy: 'last',
} as const satisfies Partial<PrepareOptions>;

export type ResolvedPrepareOptions = PrepareOptions & { -readonly [K in keyof typeof defaultPrepareOptions]: (typeof defaultPrepareOptions)[K] extends boolean ? boolean : (typeof defaultPrepareOptions)[K] extends number ? number : 'last' | 'first' };

export function resolvePrepareOptions(options: PrepareOptions): ResolvedPrepareOptions {
  validateClickLogOptions(options);
  const o: ResolvedPrepareOptions = { ...defaultPrepareOptions, ...stripUndefined(options) };
  if (typeof o.outDir !== 'string' || o.outDir === '') throw new InvalidOptionError('outDir', 'outDir is required: the folder to write train.tsv and test.tsv to');
  if (!(o.idleMinutes > 0)) throw new InvalidOptionError('idleMinutes', `idleMinutes must be > 0 (Infinity turns session splitting off), got ${o.idleMinutes}`);
  if (!Number.isInteger(o.minItemSupport) || o.minItemSupport < 1) throw new InvalidOptionError('minItemSupport', `minItemSupport must be an integer ≥ 1, got ${o.minItemSupport}`);
  if (!Number.isInteger(o.minSessionLength) || o.minSessionLength < 1) throw new InvalidOptionError('minSessionLength', `minSessionLength must be an integer ≥ 1, got ${o.minSessionLength}`);
  if (!(o.testDays > 0) || !Number.isFinite(o.testDays)) throw new InvalidOptionError('testDays', `testDays must be a finite number > 0, got ${o.testDays}`);
  if (o.splitBy !== 'last' && o.splitBy !== 'first') throw new InvalidOptionError('splitBy', `splitBy must be 'last' or 'first', got "${String(o.splitBy)}"`);
  if (o.eventTypes !== undefined && (!Array.isArray(o.eventTypes) || o.eventTypes.some((t) => typeof t !== 'string' || t === ''))) {
    throw new InvalidOptionError('eventTypes', 'eventTypes must be a list of non-empty strings');
  }
  return o;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
