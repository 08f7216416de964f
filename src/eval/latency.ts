/** Per-event latency of a serving evaluation, in milliseconds. */
export interface LatencySummary {
  /** Events measured (every event pushed through the serving path). */
  readonly events: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Histogram on log-spaced bins: `counts[i]` events took [edgesMs[i], edgesMs[i+1]) ms; the first bin also holds faster events, the last is open-ended. */
  readonly histogram: { readonly edgesMs: number[]; readonly counts: number[] };
}

/** Histogram bin edges: 4 per decade from 10 µs to 10 s. */
const EDGES_MS: number[] = Array.from({ length: 25 }, (_, i) => Number((0.01 * 10 ** (i / 4)).toPrecision(3)));

/** Collects latencies (ms) and summarises them: mean, nearest-rank percentiles, log-binned histogram. */
export class LatencyRecorder {
  private values = new Float64Array(1024);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    const v = this.values.slice(0, this.n).sort();
    const at = (q: number) => (this.n === 0 ? 0 : v[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))]!);
    let sum = 0;
    const counts = new Array<number>(EDGES_MS.length).fill(0);
    let bin = 0;
    for (let i = 0; i < this.n; i++) {
      const x = v[i]!;
      sum += x;
      while (bin + 1 < EDGES_MS.length && x >= EDGES_MS[bin + 1]!) bin++;
      counts[bin]!++;
    }
    return {
      events: this.n,
      meanMs: this.n > 0 ? sum / this.n : 0,
      p50Ms: at(0.5),
      p90Ms: at(0.9),
      p99Ms: at(0.99),
      maxMs: this.n > 0 ? v[this.n - 1]! : 0,
      histogram: { edgesMs: [...EDGES_MS], counts },
    };
  }
}
