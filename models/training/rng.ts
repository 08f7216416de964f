/**
 * Small, fast, seedable PRNG (mulberry32). Training must be reproducible from a seed, and Math.random
 * cannot be seeded.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = (seed >>> 0) ^ 0x9e3779b9;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fills `out` with uniform values in [-limit, limit). */
  fillUniform(out: Float32Array, limit: number, from = 0, to = out.length): void {
    for (let i = from; i < to; i++) out[i] = (this.next() * 2 - 1) * limit;
  }

  /** A new independent generator derived from this one (for per-epoch or per-component streams). */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }
}

/** Inverted-dropout keep-multipliers: each of `n` values is 0 with probability `rate`, else 1/(1−rate). */
export function dropoutMask(rng: Rng, n: number, rate: number): Float32Array {
  const m = new Float32Array(n);
  if (rate <= 0) return m.fill(1);
  const keep = 1 / (1 - rate);
  for (let i = 0; i < n; i++) m[i] = rng.next() < rate ? 0 : keep;
  return m;
}
