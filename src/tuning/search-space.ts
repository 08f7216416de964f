/**
 * Search spaces of `nextclick tune`: named parameters, each a range or a list of choices, sampled with a
 * seeded generator so that trial `n` of a run always gets the same parameters. Generic: the model kinds'
 * spaces are data (src/cli/tune-spaces.ts); nothing here knows a model.
 */
import { InvalidOptionError } from '../errors.js';
import { Prng } from '../synthetic/prng.js';

/** A parameter value as `--param key=value` carries it. */
export type ParamValue = number | string | boolean;

/** Parameters of one trial, in the space's order. */
export type TrialParams = Record<string, ParamValue>;

/** Only sample the parameter when this holds for the parameters drawn before it (e.g. `bpreg` only with BPR-max). */
export type ParamCondition = (drawn: Readonly<TrialParams>) => boolean;

/** One searched parameter. */
export type ParamSpec =
  /** Uniform in [min, max], or log-uniform with `log` (learning rates); rounded to 3 significant digits. */
  | { readonly type: 'float'; readonly min: number; readonly max: number; readonly log?: boolean; readonly when?: ParamCondition }
  /** Uniform integer in [min, max], or log-uniform with `log`. */
  | { readonly type: 'int'; readonly min: number; readonly max: number; readonly log?: boolean; readonly when?: ParamCondition }
  /** One of `values`, equally likely. */
  | { readonly type: 'choice'; readonly values: readonly ParamValue[]; readonly when?: ParamCondition };

/** A model kind's searched parameters, in sampling order (a condition sees the ones before it). */
export type SearchSpace = Readonly<Record<string, ParamSpec>>;

function roundSignificant(x: number, digits: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  return Number(x.toPrecision(digits));
}

/** Checks a space's ranges (min ≤ max, log ranges positive, choices non-empty); throws naming the parameter. */
export function checkSearchSpace(space: SearchSpace): void {
  for (const [name, spec] of Object.entries(space)) {
    if (spec.type === 'choice') {
      if (spec.values.length === 0) throw new InvalidOptionError(name, `search space: ${name} has no choices`);
      continue;
    }
    if (!(Number.isFinite(spec.min) && Number.isFinite(spec.max) && spec.min <= spec.max)) throw new InvalidOptionError(name, `search space: ${name} needs min ≤ max, got [${spec.min}, ${spec.max}]`);
    if (spec.log && !(spec.min > 0)) throw new InvalidOptionError(name, `search space: ${name} is log-scaled, so min must be > 0`);
    if (spec.type === 'int' && !(Number.isInteger(spec.min) && Number.isInteger(spec.max))) throw new InvalidOptionError(name, `search space: ${name} is an integer range, got [${spec.min}, ${spec.max}]`);
  }
}

/** Draws one value of `spec` from `rng`. */
function draw(spec: ParamSpec, rng: Prng): ParamValue {
  if (spec.type === 'choice') return spec.values[rng.int(spec.values.length)]!;
  const u = rng.next();
  if (spec.type === 'int') {
    if (spec.log) return Math.min(spec.max, Math.floor(Math.exp(Math.log(spec.min) + u * (Math.log(spec.max + 1) - Math.log(spec.min)))));
    return spec.min + Math.floor(u * (spec.max - spec.min + 1));
  }
  const x = spec.log ? Math.exp(Math.log(spec.min) + u * (Math.log(spec.max) - Math.log(spec.min))) : spec.min + u * (spec.max - spec.min);
  return Math.min(spec.max, Math.max(spec.min, roundSignificant(x, 3)));
}

/**
 * Seed of trial `trial` of a run seeded with `seed`: each trial draws from its own stream, so its parameters do
 * not depend on how many values earlier trials drew (a resumed or longer run repeats the same trials).
 */
export function trialSeed(seed: number, trial: number): number {
  let h = (seed ^ 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (trial + 0x9e3779b9), 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** Samples every parameter of `space` whose condition holds, in order. Deterministic given `seed`. */
export function sampleParams(space: SearchSpace, seed: number): TrialParams {
  const rng = new Prng(seed);
  const out: TrialParams = {};
  for (const [name, spec] of Object.entries(space)) {
    // Every parameter consumes one draw, sampled or not, so a condition never shifts the later parameters' values.
    const value = draw(spec, rng);
    if (!spec.when || spec.when(out)) out[name] = value;
  }
  return out;
}

/** `key=value` strings of a trial's parameters, as `--param` takes them. */
export function paramStrings(params: Readonly<TrialParams>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
}

/** One line per parameter: `name  range or choices (only when ...)`, for `--help` and docs. */
export function describeSearchSpace(space: SearchSpace, notes: Readonly<Record<string, string>> = {}): string[] {
  return Object.entries(space).map(([name, spec]) => {
    const range = spec.type === 'choice' ? spec.values.map(String).join(' | ') : `${spec.type === 'int' ? 'integer' : 'float'} ${spec.min}..${spec.max}${spec.log ? ' (log scale)' : ''}`;
    return `${name.padEnd(18)} ${range}${notes[name] ? ` (${notes[name]})` : ''}`;
  });
}
