import { rankOf } from '../scoring/top-k.js';
import type { Scorer } from '../scoring/scorer.js';
import { newSessionState, type SessionState } from '../sessions/session-state.js';
import type { SessionRows } from '../data/validation-split.js';

/** Next-item accuracy over full rankings. */
export interface NextItemMetrics {
  /** Share of targets ranked within the cutoff (= HR@k = P@k in the session-based papers). */
  readonly recall: number;
  /** Mean reciprocal rank, 0 beyond the cutoff. */
  readonly mrr: number;
  readonly predictions: number;
  readonly cutoff: number;
}

export interface EvaluateOptions {
  /** @defaultValue 20 */
  readonly cutoff?: number;
  /** Stop after this many predictions. @defaultValue Infinity */
  readonly maxPredictions?: number;
  /** Sessions stepped together. @defaultValue 256 */
  readonly batchSize?: number;
}

/**
 * Steps each session event by event through a Scorer and ranks the next item against ALL items after every
 * event (ties counted conservatively: the target goes after equal scores). Used for early stopping and by
 * `nextclick tune` to rank trials of every model kind alike; the replay evaluator is the reference for
 * reported numbers.
 */
export async function evaluateNextItem(scorer: Scorer, data: SessionRows, options: EvaluateOptions = {}): Promise<NextItemMetrics> {
  const cutoff = options.cutoff ?? 20;
  const max = options.maxPredictions ?? Infinity;
  const batchSize = options.batchSize ?? 256;
  const n = data.offsets.length - 1;
  let predictions = 0, hits = 0, rr = 0;
  for (let start = 0; start < n && predictions < max; start += batchSize) {
    const ids: number[] = [];
    for (let s = start; s < Math.min(n, start + batchSize); s++) if (data.offsets[s + 1]! - data.offsets[s]! >= 2) ids.push(s);
    const states = ids.map((s) => newSessionState(String(s), 0, 0));
    for (let t = 0; predictions < max; t++) {
      const active: number[] = [];
      ids.forEach((s, i) => { if (data.offsets[s]! + t + 1 < data.offsets[s + 1]!) active.push(i); });
      if (active.length === 0) break;
      const act: SessionState[] = active.map((i) => {
        const st = states[i]!;
        st.items.push(data.items[data.offsets[ids[i]!]! + t]!);
        return st;
      });
      await scorer.observe(act);
      const scores = await scorer.score(act);
      const N = scorer.itemCount;
      active.forEach((i, k) => {
        if (predictions >= max) return;
        const target = data.items[data.offsets[ids[i]!]! + t + 1]!;
        const rank = rankOf(scores, target, 'conservative', k * N, N);
        predictions++;
        if (rank <= cutoff) { hits++; rr += 1 / rank; }
      });
    }
  }
  return { recall: predictions ? hits / predictions : 0, mrr: predictions ? rr / predictions : 0, predictions, cutoff };
}
