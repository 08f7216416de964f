import type { Scorer } from '../../src/scoring/scorer.js';
import type { SessionState } from '../../src/sessions/session-state.js';

/**
 * Deterministic test model: scores item (last + 1) mod N highest, then (last + 2)... and counts
 * how it was called. `modelState` holds the number of observed steps so tests can see rebuilds.
 */
export class SuccessorScorer implements Scorer {
  readonly name = 'successor';
  observeCalls: number[] = [];
  constructor(readonly itemCount: number) {}
  observe(sessions: readonly SessionState[]): void {
    this.observeCalls.push(sessions.length);
    for (const s of sessions) s.modelState = s.modelState === undefined ? s.items.length : (s.modelState as number) + 1;
  }
  score(sessions: readonly SessionState[]): Float32Array {
    const n = this.itemCount;
    const out = new Float32Array(sessions.length * n);
    sessions.forEach((s, r) => {
      const last = s.items[s.items.length - 1] ?? 0;
      for (let d = 1; d <= n; d++) out[r * n + ((last + d) % n)] = n - d;
    });
    return out;
  }
}
