import { InvalidOptionError } from '../errors.js';
import type { ClickEvent } from '../events/click-event.js';
import { Prng, sampleCumulative, zipfCumulative } from './prng.js';

/** Options of {@link generateSessions}. */
export interface SyntheticOptions {
  /** Catalog size. @defaultValue 1000 */
  readonly items?: number;
  /** Latent intents (topics); each owns a disjoint slice of the catalog. @defaultValue 25 */
  readonly intents?: number;
  /** Sessions generated (train + test). @defaultValue 6000 */
  readonly sessions?: number;
  /** Mean session length beyond the minimum of 2 (geometric). @defaultValue 5 */
  readonly meanExtraLength?: number;
  /** Longest session. @defaultValue 30 */
  readonly maxLength?: number;
  /** Probability that the next item follows the second-order rule of the last two items. @defaultValue 0.7 */
  readonly sequentialProbability?: number;
  /** Probability that the session switches to another intent at a step. @defaultValue 0.05 */
  readonly switchProbability?: number;
  /** Zipf exponent of popularity (within an intent and across intents). @defaultValue 1.0 */
  readonly zipfExponent?: number;
  /** Share of sessions (the latest) in the test part. @defaultValue 0.2 */
  readonly testFraction?: number;
  /** PRNG seed. @defaultValue 42 */
  readonly seed?: number;
  /** Time of the first session, ms since the epoch. @defaultValue 2026-01-01T00:00:00Z */
  readonly startTime?: number;
}

export const syntheticDefaults = {
  items: 1000, intents: 25, sessions: 6000, meanExtraLength: 5, maxLength: 30, sequentialProbability: 0.7,
  switchProbability: 0.05, zipfExponent: 1.0, testFraction: 0.2, seed: 42, startTime: Date.UTC(2026, 0, 1),
} as const satisfies Required<SyntheticOptions>;

/** One generated session: external item ids (`i<n>`) and event times (ms), in order. */
export interface SyntheticSession {
  readonly sessionId: string;
  readonly items: string[];
  readonly times: number[];
}

export interface SyntheticLog {
  /** Earlier sessions, for training. */
  readonly train: SyntheticSession[];
  /** Later sessions, restricted to items seen in training, sessions of ≥ 2 events. */
  readonly test: SyntheticSession[];
  readonly options: Required<SyntheticOptions>;
}

function resolve(o: SyntheticOptions): Required<SyntheticOptions> {
  const r = { ...syntheticDefaults, ...o };
  const int = (k: keyof SyntheticOptions, min: number) => {
    const v = r[k];
    if (!Number.isInteger(v) || v < min) throw new InvalidOptionError(k, `${k} must be an integer ≥ ${min}, got ${v}`);
  };
  int('items', 4); int('intents', 1); int('sessions', 2); int('maxLength', 2);
  const prob = (k: 'sequentialProbability' | 'switchProbability' | 'testFraction') => {
    if (!(r[k] >= 0 && r[k] <= 1)) throw new InvalidOptionError(k, `${k} must be in [0, 1], got ${r[k]}`);
  };
  prob('sequentialProbability'); prob('switchProbability'); prob('testFraction');
  if (r.items < 2 * r.intents) throw new InvalidOptionError('items', `items (${r.items}) must be at least 2 × intents (${r.intents})`);
  if (!(r.meanExtraLength >= 0)) throw new InvalidOptionError('meanExtraLength', 'meanExtraLength must be ≥ 0');
  return r;
}

/** Deterministic integer hash of an ordered pair (for the second-order transition rule). */
function pairHash(a: number, b: number, salt: number): number {
  let h = Math.imul(a + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + salt, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/**
 * Generates a session click log from a Markov process over latent intents. Each intent owns a slice of the
 * catalog. Within an intent, with probability `sequentialProbability` the next item is a fixed function of the
 * LAST TWO items (a hashed pair → one of the intent's items), so a model that only looks at the last item
 * (first-order co-occurrence) cannot fully predict it; otherwise it is a Zipf-popular item of the intent
 * (popularity noise). Sessions occasionally switch intent. Deterministic for a given seed.
 */
export function generateSessions(options: SyntheticOptions = {}): SyntheticLog {
  const o = resolve(options);
  const rng = new Prng(o.seed);
  // Shuffle items into intents so item ids carry no structure.
  const perm = Array.from({ length: o.items }, (_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const intentItems: number[][] = Array.from({ length: o.intents }, () => []);
  perm.forEach((item, r) => intentItems[r % o.intents]!.push(item));
  const intentOf = new Int32Array(o.items);
  intentItems.forEach((list, t) => { for (const i of list) intentOf[i] = t; });
  const intentCum = zipfCumulative(o.intents, o.zipfExponent);
  const itemCum = intentItems.map((list) => zipfCumulative(list.length, o.zipfExponent));
  const popularIn = (t: number) => intentItems[t]![sampleCumulative(rng, itemCum[t]!)]!;

  const all: SyntheticSession[] = [];
  let clock = o.startTime;
  const pContinue = o.meanExtraLength / (1 + o.meanExtraLength);
  for (let s = 0; s < o.sessions; s++) {
    clock += Math.round(rng.exponential(20_000));
    let intent = sampleCumulative(rng, intentCum);
    let len = 2;
    while (len < o.maxLength && rng.next() < pContinue) len++;
    const seq: number[] = [popularIn(intent), popularIn(intent)];
    while (seq.length < len) {
      if (rng.next() < o.switchProbability) intent = sampleCumulative(rng, intentCum);
      const a = seq[seq.length - 2]!;
      const b = seq[seq.length - 1]!;
      const list = intentItems[intent]!;
      // Second-order rule only when the last item belongs to the current intent (context is coherent).
      if (intentOf[b] === intent && rng.next() < o.sequentialProbability) seq.push(list[pairHash(a, b, intent) % list.length]!);
      else seq.push(popularIn(intent));
    }
    const times: number[] = [];
    let t = clock;
    for (let i = 0; i < seq.length; i++) {
      times.push(t);
      t += 5_000 + Math.round(rng.exponential(40_000));
    }
    all.push({ sessionId: `s${s + 1}`, items: seq.map((i) => `i${i}`), times });
  }
  const nTest = Math.round(all.length * o.testFraction);
  const train = all.slice(0, all.length - nTest);
  const known = new Set<string>();
  for (const s of train) for (const i of s.items) known.add(i);
  const test: SyntheticSession[] = [];
  for (const s of all.slice(all.length - nTest)) {
    const keep = s.items.map((i, q) => [i, s.times[q]!] as const).filter(([i]) => known.has(i));
    if (keep.length >= 2) test.push({ sessionId: s.sessionId, items: keep.map(([i]) => i), times: keep.map(([, t]) => t) });
  }
  return { train, test, options: o };
}

/** Flattens sessions into click events, session by session (contiguous, as prepared test files are). */
export function sessionsToEvents(sessions: readonly SyntheticSession[]): ClickEvent[] {
  const out: ClickEvent[] = [];
  for (const s of sessions) s.items.forEach((itemId, q) => out.push({ sessionId: s.sessionId, itemId, timestamp: s.times[q]! }));
  return out;
}
