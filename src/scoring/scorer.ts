import type { SessionState } from '../sessions/session-state.js';

/**
 * The one interface every model implements: baselines, GRU4Rec, the transformer. The pipeline (stream,
 * replay, embedded SDK) calls `observe` once per accepted event — batched across sessions, at most one event
 * per session per call — and `score` when it needs recommendations.
 */
export interface Scorer {
  /** Short model name, e.g. `sr`, `gru4rec`. */
  readonly name: string;
  /** Number of items scored (the vocabulary size); `score` rows have this length. */
  readonly itemCount: number;
  /**
   * Updates per-session model state after the newest item was appended to each `session.items`.
   * A session whose `modelState` is undefined but has items must be rebuilt from `items` (new session or
   * reordered window). Baselines that read `items` directly can make this a no-op.
   */
  observe(sessions: readonly SessionState[]): void | Promise<void>;
  /**
   * Scores every item for each session. Returns `sessions.length × itemCount` scores, row-major; higher is
   * better. Must not change session state (scoring twice gives the same result).
   */
  score(sessions: readonly SessionState[]): Float32Array | Promise<Float32Array>;
  /** Releases resources (tensors, workers). */
  dispose?(): void | Promise<void>;
}

/** A ranked recommendation list for one session. */
export interface Recommendation {
  /** Dense item indices, best first. */
  readonly items: Int32Array;
  /** Their scores. */
  readonly scores: Float32Array;
}
