import { InvalidOptionError } from '../../src/errors.js';
import type { Rng } from './rng.js';

/**
 * Draws item indices with probability ∝ support^alpha in O(1) per draw (Walker's alias method).
 * GRU4Rec's shared negatives come from here; `logProbability` gives log P(item) for the logQ correction.
 */
export class PopularitySampler {
  private readonly prob: Float32Array;
  private readonly alias: Int32Array;
  /** log P(item) under the sampling distribution. */
  readonly logProbability: Float32Array;

  constructor(support: ArrayLike<number>, readonly alpha: number) {
    const n = support.length;
    if (n === 0) throw new InvalidOptionError('support', 'cannot sample from an empty catalogue');
    if (!(alpha >= 0 && alpha <= 1)) throw new InvalidOptionError('sampleAlpha', `sampleAlpha must be in [0, 1], got ${alpha}`);
    const w = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      // Items never seen in training (grown vocabulary) still get a small weight so they can be sampled.
      const s = Math.max(support[i]!, 0.5);
      w[i] = Math.pow(s, alpha);
      total += w[i]!;
    }
    this.logProbability = new Float32Array(n);
    for (let i = 0; i < n; i++) this.logProbability[i] = Math.log(w[i]! / total);
    this.prob = new Float32Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      scaled[i] = (w[i]! * n) / total;
      (scaled[i]! < 1 ? small : large).push(i);
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    for (const i of large) this.prob[i] = 1;
    for (const i of small) this.prob[i] = 1;
  }

  get size(): number {
    return this.prob.length;
  }

  /** Fills `out[from..]` with draws. */
  sample(rng: Rng, out: Int32Array, from = 0, to = out.length): void {
    const n = this.prob.length;
    for (let i = from; i < to; i++) {
      const u = rng.next() * n;
      const k = Math.floor(u);
      out[i] = u - k < this.prob[k]! ? k : this.alias[k]!;
    }
  }
}
