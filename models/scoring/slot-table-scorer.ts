import { tf } from '../../src/backend/tf.js';
import type { Recommendation, Scorer } from '../../src/scoring/scorer.js';
import type { ItemFilter } from '../../src/scoring/top-k.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import { runReads, type ReadingComputation } from '../training/tensor-reads.js';
import { addScoreAdditions, type ItemScoringTable, type ScoreAdditions } from './item-scoring-table.js';
import type { SessionSlots } from './session-slots.js';

/**
 * What the neural scorers share: per-session model state in backend slot tables ({@link SessionSlots}), query
 * vectors scored against one resident {@link ItemScoringTable}, sparse score additions (repeat bias, transition
 * prior) and one read-back per `score` or `recommend` (synchronous where the backend reads synchronously, else a
 * Promise). A model supplies how sessions advance and what their query vectors are.
 */
export abstract class SlotTableScorer implements Scorer {
  abstract readonly name: string;
  readonly itemCount: number;
  private disposed = false;

  protected constructor(protected readonly slots: SessionSlots, protected readonly scoringTable: ItemScoringTable) {
    this.itemCount = scoringTable.itemCount;
  }

  /** How `recommend` finds the top items (option `scoring`, `auto` resolved). */
  get scoringMode(): 'exact' | 'ann' {
    return this.scoringTable.mode;
  }

  /** Sessions holding a slot of the backend state tables. */
  get liveSlots(): number {
    return this.slots.size;
  }

  /** Advances the sessions by their newest item on the backend (rebuilding those without a valid slot); no read-back. */
  observe(sessions: readonly SessionState[]): void {
    this.checkOpen();
    this.advance(sessions, false);
  }

  /** Frees the sessions' slots (they are closed); a later event rebuilds a session from its items. */
  release(sessions: readonly SessionState[]): void {
    for (const s of sessions) this.slots.release(s);
  }

  /** Full score rows, one read. */
  score(sessions: readonly SessionState[]): Float32Array | Promise<Float32Array> {
    this.checkOpen();
    const queries = this.queries(sessions), add = this.additions(sessions), table = this.scoringTable;
    return runReads((function* (): ReadingComputation<Float32Array> {
      return yield () => addScoreAdditions(table.scoreTensor(queries()), add);
    })());
  }

  /** Top `k` items per session (one filter per session), one read for the batch. */
  recommend(sessions: readonly SessionState[], k: number, filters: readonly ItemFilter[]): Recommendation[] | Promise<Recommendation[]> {
    this.checkOpen();
    if (sessions.length === 0) return [];
    return runReads(this.scoringTable.topKOf(this.queries(sessions), sessions.length, k, filters, this.additions(sessions)));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.scoringTable.dispose();
    tf.dispose(this.stateTensors());
  }

  protected checkOpen(): void {
    if (this.disposed) throw new Error(`${this.constructor.name} is disposed`);
  }

  /**
   * One batched pass on the backend: sessions with a valid slot take a step with their newest item
   * (`onlyMissing`: none), the others are rebuilt from their items into a fresh slot.
   */
  protected abstract advance(sessions: readonly SessionState[], onlyMissing: boolean): void;

  /** The sessions' query vectors `[sessions, d]`, built inside `tf.tidy` (after rebuilding missing slots, no read). */
  protected abstract queries(sessions: readonly SessionState[]): () => tf.Tensor2D;

  /** Sparse additions to the sessions' score rows, if the model has any. */
  protected abstract additions(sessions: readonly SessionState[]): ScoreAdditions | undefined;

  /** Every tensor the scorer owns besides the item table (weights and slot tables), for `dispose`. */
  protected abstract stateTensors(): tf.Tensor[];
}

/** `t` with zero rows appended up to `rows` (disposes `t`), or `t` itself when it has as many. */
export function growRows<T extends tf.Tensor>(t: T, rows: number): T {
  if (t.shape[0]! >= rows) return t;
  const grown = tf.tidy(() => tf.concat([t, tf.zeros([rows - t.shape[0]!, ...t.shape.slice(1)])]));
  t.dispose();
  return grown as T;
}
