import type { SessionState } from '../sessions/session-state.js';
import type { ItemFilter } from './top-k.js';

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
  /**
   * Optional serving fast path: the top `k` items per session (one filter per session), without materialising
   * full score rows (e.g. an ANN index or a fused top-k). The pipeline uses it when present and no score hook
   * needs the full rows. Must rank like `score` + {@link topK} does, up to the index's approximation.
   */
  recommend?(sessions: readonly SessionState[], k: number, filters: readonly ItemFilter[]): Recommendation[] | Promise<Recommendation[]>;
  /**
   * Optional: the sessions were closed (idle, evicted, split, closed), so the model can free what it keeps for
   * them (e.g. a slot of backend-resident state). The pipeline calls it once per closed session; a scorer must
   * still cope with sessions that are dropped without it (by reclaiming their state when it needs the room).
   */
  release?(sessions: readonly SessionState[]): void;
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
