/**
 * The live state of one session. `items`/`times` hold the last `maxItems` events in event-time order
 * (dense item indices; {@link OOV} entries are never stored). `modelState` is the slot a model keeps its
 * per-session state in (a GRU hidden vector, a transformer KV cache); the Sessionizer never reads it.
 */
export interface SessionState {
  /** Session key as given by the events. */
  readonly key: string;
  /** Increments each time the key starts a new session after an idle gap. */
  readonly generation: number;
  readonly items: number[];
  readonly times: number[];
  /** Event time of the first event. */
  readonly startTime: number;
  /** Newest event time seen. */
  lastTime: number;
  /** Events accepted into this session (including those that slid out of the window). */
  eventCount: number;
  /** Model-owned slot. Reset to undefined when the window is reordered. */
  modelState: unknown;
  /**
   * 53-bit hashes of recent event ids for de-duplication (bounded). Hashes, not the strings: a UUID-sized id
   * costs ~60 bytes of heap, its hash 8, which keeps a live session under 2 KB. @internal
   */
  readonly recentEventIdHashes: number[];
  /**
   * The Sessionizer's touch counter when this session was last touched: its place in the least-recently-touched
   * order, kept so a restored sessionizer (changelog) has the same order. @internal
   */
  lastTouch: number;
}

export function newSessionState(key: string, generation: number, time: number): SessionState {
  return { key, generation, items: [], times: [], startTime: time, lastTime: time, eventCount: 0, modelState: undefined, recentEventIdHashes: [], lastTouch: 0 };
}
