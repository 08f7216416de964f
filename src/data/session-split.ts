import type { EventTable } from './event-table.js';

/** Sessions after idle splitting: runs of `events` (table indices in session/time order), one run per session. */
export interface SplitSessions {
  /** Table indices of the kept events, grouped by session, time-ordered within a session. */
  readonly events: Uint32Array;
  /** Session number (0..count-1) of each entry of `events`. */
  readonly sessionOf: Int32Array;
  /** Number of sessions. */
  readonly count: number;
  /** Output id of each session: the original id, `id#2`, `id#3`... for the later parts of a split session. */
  readonly ids: string[];
  /** Events dropped as consecutive repeats of the same item. */
  readonly repeatsRemoved: number;
}

/**
 * Sorts events by (session, time), starts a new session wherever a gap exceeds `idleMs`, and optionally drops
 * consecutive repeats of an item within a session.
 */
export function splitSessions(table: EventTable, idleMs: number, dedupeRepeats: boolean): SplitSessions {
  const order = table.sessionTimeOrder();
  const n = order.length;
  const events = new Uint32Array(n);
  const sessionOf = new Int32Array(n);
  const ids: string[] = [];
  let kept = 0;
  let repeatsRemoved = 0;
  let prevSession = -1;
  let prevTime = 0;
  let prevItem = -1;
  let part = 0;
  for (let k = 0; k < n; k++) {
    const e = order[k] as number;
    const s = table.session[e] as number;
    const t = table.time[e] as number;
    const it = table.item[e] as number;
    if (s !== prevSession) {
      part = 1;
      ids.push(table.sessionIds[s] as string);
    } else if (t - prevTime > idleMs) {
      part++;
      ids.push(`${table.sessionIds[s] as string}#${part}`);
    } else if (dedupeRepeats && it === prevItem) {
      repeatsRemoved++;
      prevTime = t;
      continue;
    }
    prevSession = s;
    prevTime = t;
    prevItem = it;
    events[kept] = e;
    sessionOf[kept] = ids.length - 1;
    kept++;
  }
  return { events: events.subarray(0, kept), sessionOf: sessionOf.subarray(0, kept), count: ids.length, ids, repeatsRemoved };
}

/** Counters of {@link filterSessions}. */
export interface FilterStats {
  /** Rounds of (item filter, session filter) run. */
  rounds: number;
  eventsRemovedByItemSupport: number;
  eventsRemovedBySessionLength: number;
}

/**
 * Marks events to keep (alive[k] = 1 for entry k of `split.events`): session filter, then item filter and
 * session filter again, repeated while `untilStable` and the item filter still removes something.
 */
export function filterSessions(table: EventTable, split: SplitSessions, minSupport: number, minLength: number, untilStable: boolean): { alive: Uint8Array; stats: FilterStats } {
  const n = split.events.length;
  const alive = new Uint8Array(n).fill(1);
  const stats: FilterStats = { rounds: 0, eventsRemovedByItemSupport: 0, eventsRemovedBySessionLength: 0 };
  const lengths = new Int32Array(split.count);
  const support = new Int32Array(table.itemIds.length);
  const sessionPass = (): void => {
    lengths.fill(0);
    for (let k = 0; k < n; k++) if (alive[k]) lengths[split.sessionOf[k] as number] = (lengths[split.sessionOf[k] as number] as number) + 1;
    for (let k = 0; k < n; k++) {
      if (alive[k] && (lengths[split.sessionOf[k] as number] as number) < minLength) {
        alive[k] = 0;
        stats.eventsRemovedBySessionLength++;
      }
    }
  };
  const itemPass = (): number => {
    support.fill(0);
    for (let k = 0; k < n; k++) if (alive[k]) {
      const i = table.item[split.events[k] as number] as number;
      support[i] = (support[i] as number) + 1;
    }
    let removed = 0;
    for (let k = 0; k < n; k++) {
      if (alive[k] && (support[table.item[split.events[k] as number] as number] as number) < minSupport) {
        alive[k] = 0;
        removed++;
      }
    }
    stats.eventsRemovedByItemSupport += removed;
    return removed;
  };
  sessionPass();
  for (;;) {
    stats.rounds++;
    const removed = itemPass();
    sessionPass();
    if (!untilStable || removed === 0) break;
  }
  return { alive, stats };
}
