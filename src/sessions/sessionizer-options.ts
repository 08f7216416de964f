import { InvalidOptionError } from '../errors.js';

export interface SessionizerOptions {
  /** A gap in event time longer than this starts a new session under the same key. Milliseconds. @defaultValue 1_800_000 (30 min) */
  readonly idleTimeoutMs?: number;
  /**
   * Grace period for late events, in ms: a session is closed only once the watermark (highest event time seen)
   * is this far past its idle deadline, so late events can still join it. @defaultValue 60_000
   */
  readonly allowedLatenessMs?: number;
  /** An event older than its session's newest event by at most this much (ms) is placed in order; older ones are dropped and counted. @defaultValue 300_000 */
  readonly outOfOrderToleranceMs?: number;
  /** Items kept per session (the window models read). @defaultValue 50 */
  readonly maxItems?: number;
  /** Live sessions kept; the least recently used is evicted (counted) beyond this. @defaultValue 1_000_000 */
  readonly maxSessions?: number;
  /** Event ids remembered per session for de-duplication. @defaultValue 64 */
  readonly dedupeWindow?: number;
  /**
   * Robust watermark: an event more than this far (ms) ahead of the highest trusted event time is held back as
   * a possible outlier (a wrong clock, a unit mistake) and moves the watermark only once a later event is also
   * that far ahead — then to the earlier of the two. So one outlier moves the watermark by at most this much;
   * with the default (the grace period) it can expire only sessions already past their idle deadline, whose
   * next event would start a new session anyway, and so changes no recommendation. A real jump in event time
   * (a quiet hour, a restart after a pause) costs one event's delay. @defaultValue allowedLatenessMs
   */
  readonly maxWatermarkJumpMs?: number;
}

export type ResolvedSessionizerOptions = Required<SessionizerOptions>;

export const sessionizerDefaults = {
  idleTimeoutMs: 30 * 60_000,
  allowedLatenessMs: 60_000,
  outOfOrderToleranceMs: 5 * 60_000,
  maxItems: 50,
  maxSessions: 1_000_000,
  dedupeWindow: 64,
} as const satisfies Omit<ResolvedSessionizerOptions, 'maxWatermarkJumpMs'>;

export function resolveSessionizerOptions(options: SessionizerOptions = {}): ResolvedSessionizerOptions {
  const given = stripUndefined(options);
  const r: ResolvedSessionizerOptions = { ...sessionizerDefaults, maxWatermarkJumpMs: given.allowedLatenessMs ?? sessionizerDefaults.allowedLatenessMs, ...given };
  const nonNeg = ['idleTimeoutMs', 'allowedLatenessMs', 'outOfOrderToleranceMs', 'dedupeWindow', 'maxWatermarkJumpMs'] as const;
  for (const k of nonNeg) {
    if (typeof r[k] !== 'number' || !Number.isFinite(r[k]) || r[k] < 0) throw new InvalidOptionError(k, `${k} must be a finite number ≥ 0, got ${String(r[k])}`);
  }
  for (const k of ['maxItems', 'maxSessions'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new InvalidOptionError(k, `${k} must be an integer ≥ 1, got ${String(r[k])}`);
  }
  if (r.idleTimeoutMs === 0) throw new InvalidOptionError('idleTimeoutMs', 'idleTimeoutMs must be > 0');
  if (r.outOfOrderToleranceMs > r.idleTimeoutMs) {
    throw new InvalidOptionError('outOfOrderToleranceMs', 'outOfOrderToleranceMs cannot exceed idleTimeoutMs');
  }
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
