import { InvalidOptionError } from '../../src/errors.js';
import type { SessionState } from '../../src/sessions/session-state.js';

/** Options of {@link SessionSlots}: how many sessions' model state a scorer keeps on the backend. */
export interface SessionSlotsOptions {
  /** Slots allocated up front; the table doubles whenever it is full, up to `maxSlots`. @defaultValue 256 */
  readonly initialSlots?: number;
  /**
   * Most sessions with backend-resident state. When every slot is taken, the least recently used session's slot
   * is reclaimed; that session is rebuilt from its items (one batched forward, no read-back) on its next event.
   * Must be at least the largest micro-batch. @defaultValue 65_536
   */
  readonly maxSlots?: number;
}

export const sessionSlotsDefaults = {
  initialSlots: 256,
  maxSlots: 65_536,
} as const satisfies Required<SessionSlotsOptions>;

/**
 * A session's handle on its row of a scorer's backend slot table, kept in `SessionState.modelState`.
 * `index` is -1 once the slot was released (session closed) or reclaimed (table full): the scorer then rebuilds
 * the session from its items.
 */
export class SessionSlot {
  /** Positions of state held (the transformer's window length; the GRU counts its steps). */
  length = 0;

  constructor(
    /** The table this slot belongs to (a slot of another scorer is never reused). */
    readonly table: SessionSlots,
    /** Row in the table's tensors, or -1 when no longer valid. */
    public index: number,
  ) {}
}

/**
 * Slot bookkeeping for per-session model state kept on the TF.js backend: which row of the scorer's state
 * tensors belongs to which session. Host-side only (the tensors belong to the scorer, which grows them when
 * {@link acquire} reports a new capacity). Slots are freed when the pipeline closes a session ({@link release});
 * a session that is dropped without that (a scorer driven directly, a revoked partition) only keeps its slot until
 * the table is full, when the least recently used slot is reclaimed.
 */
export class SessionSlots {
  /** Rows the scorer's state tensors must have. */
  capacity: number;
  readonly maxSlots: number;
  private readonly free: number[] = [];
  /** Live slots, least recently used first (delete + set on use). */
  private readonly live = new Map<SessionSlot, true>();
  /** Each session's slot, so a session whose `modelState` was cleared (reordered window) gets its own row back. */
  private readonly bySession = new WeakMap<SessionState, SessionSlot>();
  private next = 0;

  constructor(options: SessionSlotsOptions = {}) {
    const initial = options.initialSlots ?? sessionSlotsDefaults.initialSlots;
    const max = options.maxSlots ?? sessionSlotsDefaults.maxSlots;
    if (!Number.isInteger(initial) || initial < 1) throw new InvalidOptionError('initialSlots', `initialSlots must be an integer ≥ 1, got ${String(initial)}`);
    if (!Number.isInteger(max) || max < 1) throw new InvalidOptionError('maxSlots', `maxSlots must be an integer ≥ 1, got ${String(max)}`);
    this.maxSlots = max;
    this.capacity = Math.min(initial, max);
  }

  /** Sessions holding a slot. */
  get size(): number {
    return this.live.size;
  }

  /** The session's valid slot from its `modelState` (marked as just used), else undefined. */
  use(session: SessionState): SessionSlot | undefined {
    const state = session.modelState;
    if (!(state instanceof SessionSlot) || state.table !== this || state.index < 0) return undefined;
    this.live.delete(state);
    this.live.set(state, true);
    return state;
  }

  /**
   * Fresh slots (length 0) for sessions without a valid one, stored in their `modelState`. A session keeps its
   * row when it still has one (its state was cleared, not released); otherwise a free row, a new row (the
   * capacity grows: the caller then grows its tensors to {@link capacity} rows), or the row of the least recently
   * used slot not in `keep` (the batch being served), whose session is rebuilt on its next event.
   */
  acquire(sessions: readonly SessionState[], keep: ReadonlySet<SessionSlot>): SessionSlot[] {
    if (keep.size + sessions.length > this.maxSlots) throw new InvalidOptionError('maxSlots', `maxSlots (${this.maxSlots}) is smaller than one micro-batch of sessions (${keep.size + sessions.length}); raise maxSlots or lower the pipeline's maxBatchSize`);
    const batch = new Set(keep);
    return sessions.map((session) => {
      const previous = this.bySession.get(session);
      let index: number | undefined;
      if (previous && previous.index >= 0) {
        this.live.delete(previous);
        index = previous.index;
        previous.index = -1;
      }
      index ??= this.free.pop();
      if (index === undefined && this.next < this.capacity) index = this.next++;
      if (index === undefined && this.capacity < this.maxSlots) {
        this.capacity = Math.min(this.maxSlots, this.capacity * 2);
        index = this.next++;
      }
      index ??= this.reclaim(batch);
      const slot = new SessionSlot(this, index);
      batch.add(slot);
      this.live.set(slot, true);
      this.bySession.set(session, slot);
      session.modelState = slot;
      return slot;
    });
  }

  /** Frees the session's slot (it was closed) and clears its `modelState`. */
  release(session: SessionState): void {
    const slot = this.bySession.get(session);
    if (slot && slot.index >= 0) {
      this.live.delete(slot);
      this.free.push(slot.index);
      slot.index = -1;
    }
    this.bySession.delete(session);
    if (session.modelState instanceof SessionSlot && session.modelState.table === this) session.modelState = undefined;
  }

  private reclaim(keep: ReadonlySet<SessionSlot>): number {
    for (const slot of this.live.keys()) {
      if (keep.has(slot)) continue;
      this.live.delete(slot);
      const index = slot.index;
      slot.index = -1;
      return index;
    }
    throw new InvalidOptionError('maxSlots', `maxSlots (${this.maxSlots}) is smaller than one micro-batch of sessions; raise maxSlots or lower the pipeline's maxBatchSize`);
  }
}
