import { TypedEmitter } from '../instrumentation/typed-emitter.js';
import type { ClickEvent } from '../events/click-event.js';
import { newSessionState, type SessionState } from './session-state.js';
import type { EventTimeState } from './session-snapshot.js';
import { resolveSessionizerOptions, type ResolvedSessionizerOptions, type SessionizerOptions } from './sessionizer-options.js';

/** Why a session ended. */
export type SessionCloseReason = 'idle' | 'evicted' | 'split' | 'closed';

export interface SessionizerEvents {
  /** A session ended: idle past its deadline (plus grace), evicted by the LRU cap, split by an idle gap, or closed by `closeAll`. */
  'session:closed': { readonly session: SessionState; readonly reason: SessionCloseReason };
}

/**
 * What happened to one event:
 * - `appended`: placed after the newest event (the common case); models step once.
 * - `reordered`: an out-of-order event within tolerance was placed in time order; `modelState` was cleared, so
 *   models must rebuild their state from `items`.
 * - `duplicate`: its event id was seen in this session before; ignored.
 * - `too-late`: older than the out-of-order tolerance; dropped and counted.
 * - `no-item`: activity recorded (session kept alive) but the item is out of vocabulary, so nothing was stored.
 */
export type IngestOutcome = 'appended' | 'reordered' | 'duplicate' | 'too-late' | 'no-item';

export interface IngestResult {
  readonly outcome: IngestOutcome;
  readonly session: SessionState;
  /** True when this event opened a new session (first for the key, or after an idle gap). */
  readonly isNew: boolean;
}

export interface SessionizerStats {
  liveSessions: number;
  opened: number;
  closedIdle: number;
  evicted: number;
  split: number;
  duplicates: number;
  tooLate: number;
  reordered: number;
  /** Events held back from the watermark as possible outliers (more than maxWatermarkJumpMs ahead of it). */
  watermarkOutliers: number;
  watermark: number;
}

/**
 * Per-session state keyed by session id, driven by event time. One instance serves replay, the embedded
 * SDK and the Kafka pipeline. Not thread-safe; one owner drives it.
 *
 * Live sessions sit in a Map in least-recently-touched order (delete + set on touch), which gives O(1) LRU
 * eviction and lets expiry scan from the oldest and stop at the first live session.
 */
export class Sessionizer extends TypedEmitter<SessionizerEvents> {
  readonly options: ResolvedSessionizerOptions;
  private readonly sessions = new Map<string, SessionState>();
  private readonly counters: Omit<SessionizerStats, 'liveSessions' | 'watermark'> = {
    opened: 0, closedIdle: 0, evicted: 0, split: 0, duplicates: 0, tooLate: 0, reordered: 0, watermarkOutliers: 0,
  };
  /** Highest trusted event time (the watermark plus the allowed lateness). */
  private maxEventTime = -Infinity;
  /** The earliest-held event time more than maxWatermarkJumpMs ahead of maxEventTime, waiting for a second one. */
  private heldJump: number | undefined;
  /** Counts touches; each session keeps the value of its last one (`lastTouch`), i.e. its LRU position. */
  private touches = 0;
  /** Keys of sessions changed since the last {@link takeChanges}, when tracking is on. */
  private changed: Set<string> | undefined;

  constructor(options: SessionizerOptions = {}) {
    super();
    this.options = resolveSessionizerOptions(options);
  }

  /** Current watermark: highest trusted event time minus the allowed lateness (see `maxWatermarkJumpMs`). */
  get watermark(): number {
    return this.maxEventTime - this.options.allowedLatenessMs;
  }

  get size(): number {
    return this.sessions.size;
  }

  get(key: string): SessionState | undefined {
    return this.sessions.get(key);
  }

  /** Iterates live sessions, least recently touched first. */
  values(): IterableIterator<SessionState> {
    return this.sessions.values();
  }

  stats(): SessionizerStats {
    return { ...this.counters, liveSessions: this.sessions.size, watermark: this.watermark };
  }

  /**
   * Adds one event. `itemIndex` is the dense index from the vocabulary, or a negative number for an
   * out-of-vocabulary item (activity is recorded, nothing stored).
   */
  ingest(event: Pick<ClickEvent, 'sessionId' | 'timestamp' | 'eventId'>, itemIndex: number): IngestResult {
    const { sessionId: key, timestamp: t } = event;
    const o = this.options;
    this.advanceWatermark(t);

    let session = this.sessions.get(key);
    let isNew = false;
    let generation = 0;
    if (session && t - session.lastTime > o.idleTimeoutMs) {
      generation = session.generation + 1;
      // Idle gap: the old session ends here and a new one starts under the same key.
      this.sessions.delete(key);
      this.counters.split++;
      this.emit('session:closed', { session, reason: 'split' });
      session = undefined;
    }
    this.changed?.add(key);
    if (!session) {
      session = newSessionState(key, generation, t);
      session.lastTouch = ++this.touches;
      isNew = true;
      this.counters.opened++;
      this.sessions.set(key, session);
      this.enforceCap();
    } else {
      // Touch: move to the most-recent end of the LRU order.
      session.lastTouch = ++this.touches;
      this.sessions.delete(key);
      this.sessions.set(key, session);
    }

    if (event.eventId !== undefined) {
      const h = eventIdHash(event.eventId);
      if (session.recentEventIdHashes.includes(h)) {
        this.counters.duplicates++;
        return { outcome: 'duplicate', session, isNew };
      }
      session.recentEventIdHashes.push(h);
      if (session.recentEventIdHashes.length > o.dedupeWindow) session.recentEventIdHashes.shift();
    }

    if (t < session.lastTime) {
      if (session.lastTime - t > o.outOfOrderToleranceMs) {
        this.counters.tooLate++;
        return { outcome: 'too-late', session, isNew };
      }
      if (itemIndex < 0) return { outcome: 'no-item', session, isNew };
      // Place in time order; stable for equal timestamps (after existing ones).
      let pos = session.times.length;
      while (pos > 0 && (session.times[pos - 1] as number) > t) pos--;
      if (pos === 0 && session.items.length >= o.maxItems) {
        // Older than everything in a full window: it would slide out at once.
        session.eventCount++;
        return { outcome: 'no-item', session, isNew };
      }
      session.items.splice(pos, 0, itemIndex);
      session.times.splice(pos, 0, t);
      session.eventCount++;
      this.trim(session);
      session.modelState = undefined;
      this.counters.reordered++;
      return { outcome: 'reordered', session, isNew };
    }

    session.lastTime = t;
    if (itemIndex < 0) return { outcome: 'no-item', session, isNew };
    session.items.push(itemIndex);
    session.times.push(t);
    session.eventCount++;
    this.trim(session);
    return { outcome: 'appended', session, isNew };
  }

  /**
   * Closes sessions whose idle deadline (last event + idle timeout) is before the watermark. Returns the
   * closed sessions. Call it periodically (the pipeline does, after each batch).
   *
   * The scan runs from the least recently touched session and stops at the first live one, since touch order
   * follows event time — except for sessions whose last event is ahead of the trusted event time (an outlier
   * held back from the watermark): those are stepped over, or one event at +23 h would stop expiry for good.
   */
  expire(now: number = this.watermark): SessionState[] {
    const closed: SessionState[] = [];
    for (const session of this.sessions.values()) {
      if (session.lastTime + this.options.idleTimeoutMs >= now) {
        if (session.lastTime > this.maxEventTime) continue;
        break;
      }
      closed.push(session);
    }
    for (const session of closed) {
      this.sessions.delete(session.key);
      this.changed?.add(session.key);
      this.counters.closedIdle++;
      this.emit('session:closed', { session, reason: 'idle' });
    }
    return closed;
  }

  /**
   * Starts recording the keys of sessions that change from now on — an event ingested, a session closed
   * (idle, evicted, split) — for {@link takeChanges}. A state changelog writes only those. `delete` and
   * `closeAll` (shutdown) are not changes: the changelog keeps those sessions for whoever resumes them.
   */
  trackChanges(): void {
    this.changed ??= new Set();
  }

  /**
   * Keys changed since the previous call (see {@link trackChanges}); a key whose session is no longer live
   * ({@link get} returns undefined) was closed. Empty when tracking is off.
   */
  takeChanges(): string[] {
    if (!this.changed || this.changed.size === 0) return [];
    const keys = [...this.changed];
    this.changed.clear();
    return keys;
  }

  /** The event-time bookkeeping a restored sessionizer needs to continue exactly (watermark, held outlier, LRU clock). */
  eventTimeState(): EventTimeState {
    return { maxEventTime: this.maxEventTime, heldJump: this.heldJump, touches: this.touches };
  }

  /**
   * Resumes from saved state (a changelog): the sessions in their saved least-recently-touched order and the
   * event-time bookkeeping, replacing whatever is live. Windows longer than `maxItems` are trimmed and the
   * `maxSessions` cap applies (evictions are counted and emitted as usual). Model state is not restored:
   * `modelState` is undefined, so models rebuild it from `items` on the session's next event.
   */
  restore(sessions: readonly SessionState[], eventTime: EventTimeState): void {
    this.sessions.clear();
    this.maxEventTime = eventTime.maxEventTime;
    this.heldJump = eventTime.heldJump;
    let touches = eventTime.touches;
    for (const s of [...sessions].sort((a, b) => a.lastTouch - b.lastTouch)) {
      s.modelState = undefined;
      this.trim(s);
      this.sessions.set(s.key, s);
      if (s.lastTouch > touches) touches = s.lastTouch;
    }
    this.touches = touches;
    this.enforceCap();
  }

  /** Removes one session (e.g. its partition was revoked). */
  delete(key: string): SessionState | undefined {
    const s = this.sessions.get(key);
    if (s) this.sessions.delete(key);
    return s;
  }

  /** Closes every live session (end of a replay, shutdown). */
  closeAll(): void {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of all) this.emit('session:closed', { session, reason: 'closed' });
  }

  /**
   * The first event sets the watermark; later ones advance it freely within maxWatermarkJumpMs. An event
   * further ahead is held: a second one further ahead confirms that event time moved, to the earlier of the two
   * (so a lone outlier, however far, never moves it more than maxWatermarkJumpMs).
   */
  private advanceWatermark(t: number): void {
    if (t <= this.maxEventTime) return;
    if (this.maxEventTime === -Infinity || t - this.maxEventTime <= this.options.maxWatermarkJumpMs) {
      this.maxEventTime = t;
      if (this.heldJump !== undefined && this.heldJump - t <= this.options.maxWatermarkJumpMs) this.heldJump = undefined;
      return;
    }
    this.counters.watermarkOutliers++;
    if (this.heldJump === undefined) {
      this.heldJump = t;
      return;
    }
    this.maxEventTime = Math.min(this.heldJump, t);
    const later = Math.max(this.heldJump, t);
    this.heldJump = later - this.maxEventTime > this.options.maxWatermarkJumpMs ? later : undefined;
  }

  private trim(session: SessionState): void {
    const extra = session.items.length - this.options.maxItems;
    if (extra > 0) {
      session.items.splice(0, extra);
      session.times.splice(0, extra);
    }
  }

  private enforceCap(): void {
    while (this.sessions.size > this.options.maxSessions) {
      const oldest = this.sessions.keys().next();
      if (oldest.done) return;
      const session = this.sessions.get(oldest.value) as SessionState;
      this.sessions.delete(oldest.value);
      this.changed?.add(oldest.value);
      this.counters.evicted++;
      this.emit('session:closed', { session, reason: 'evicted' });
    }
  }
}

/**
 * A 53-bit hash of an event id (two 32-bit FNV-1a variants). Two distinct ids in one session's window collide
 * with probability ~dedupeWindow / 2⁵³ per event (~10⁻¹⁴ at the default), i.e. a false duplicate never happens
 * in practice.
 */
export function eventIdHash(id: string): number {
  let a = 0x811c9dc5, b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}
