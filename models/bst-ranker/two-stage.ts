import { InvalidOptionError } from '../../src/errors.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import { topK } from '../../src/scoring/top-k.js';
import type { SessionState } from '../../src/sessions/session-state.js';
import type { BstRanker } from './ranker.js';

/** Options for {@link TwoStageScorer}. */
export interface TwoStageOptions {
  /** Candidates (by the first stage's scores) re-ranked per session. @defaultValue 100 */
  readonly topM?: number;
  /** Re-rank at all; off, the first stage's scores pass through unchanged. @defaultValue true */
  readonly enabled?: boolean;
  /**
   * Weight of the first-stage score added to the ranker's logit (0 = the ranker alone decides the order of
   * the top M, as in BST). @defaultValue 0
   */
  readonly candidateWeight?: number;
}

export const defaultTwoStageOptions = { topM: 100, enabled: true, candidateWeight: 0 } as const satisfies Required<TwoStageOptions>;

/**
 * A candidates scorer (GRU4Rec, transformer, a baseline) followed by the BST ranker, as one Scorer: the
 * pipeline and the evaluators use it unchanged. The top `topM` items of the first stage get the ranker's
 * logit; every other item gets a score below all re-ranked ones that keeps the first stage's order (so
 * filters that remove re-ranked items still leave a sensible tail). Sessions without items pass through.
 */
export class TwoStageScorer implements Scorer {
  readonly name: string;
  readonly itemCount: number;
  readonly options: Required<TwoStageOptions>;

  constructor(readonly candidates: Scorer, readonly ranker: BstRanker, options: TwoStageOptions = {}) {
    this.options = { ...defaultTwoStageOptions, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
    const m = this.options.topM;
    if (!Number.isInteger(m) || m < 1) throw new InvalidOptionError('topM', `topM must be an integer ≥ 1, got ${String(m)}`);
    if (!Number.isFinite(this.options.candidateWeight)) throw new InvalidOptionError('candidateWeight', 'candidateWeight must be a finite number');
    if (ranker.params.itemCount !== candidates.itemCount) {
      throw new InvalidOptionError('ranker', `the ranker knows ${ranker.params.itemCount} items but the candidates model ${candidates.itemCount}; train the ranker on the candidates model's vocabulary`);
    }
    this.itemCount = candidates.itemCount;
    this.name = `${candidates.name}+bst`;
  }

  observe(sessions: readonly SessionState[]): void | Promise<void> {
    return this.candidates.observe(sessions);
  }

  async score(sessions: readonly SessionState[]): Promise<Float32Array> {
    const base = await this.candidates.score(sessions);
    if (!this.options.enabled) return base;
    const N = this.itemCount, M = Math.min(this.options.topM, N), w = this.options.candidateWeight;
    const rows = sessions.map((s, i) => i).filter((i) => sessions[i]!.items.length > 0);
    if (rows.length === 0) return base;
    const cands = new Int32Array(rows.length * M);
    rows.forEach((i, r) => cands.set(topK(base, M, {}, i * N, N).items, r * M));
    const candScores = Float32Array.from(cands, (item, k) => base[rows[Math.floor(k / M)]! * N + item]!);
    const logits = await this.ranker.logitsAsync(rows.map((i) => sessions[i]!), cands, M, candScores);
    const out = base.slice();
    rows.forEach((i, r) => {
      const off = i * N;
      let maxBase = -Infinity;
      for (let j = 0; j < N; j++) if (base[off + j]! > maxBase) maxBase = base[off + j]!;
      let minFinal = Infinity;
      const finals = new Float32Array(M);
      for (let m = 0; m < M; m++) {
        const f = logits[r * M + m]! + w * base[off + cands[r * M + m]!]!;
        finals[m] = f;
        if (f < minFinal) minFinal = f;
      }
      // Below every re-ranked item, in the first stage's order.
      const shift = minFinal - 1 - maxBase;
      for (let j = 0; j < N; j++) out[off + j] = base[off + j]! + shift;
      for (let m = 0; m < M; m++) out[off + cands[r * M + m]!] = finals[m]!;
    });
    return out;
  }

  async dispose(): Promise<void> {
    await this.candidates.dispose?.();
    this.ranker.dispose();
  }
}
