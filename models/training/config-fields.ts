import { InvalidOptionError } from '../../src/errors.js';

/**
 * The pieces every model config shares: merging a partial config over the defaults (unknown keys rejected),
 * numeric field checks with messages naming the field, and the CLI's `key=value` parameters.
 */

/** `defaults` overlaid with the defined fields of `partial`; an unknown key throws, naming the known ones. */
export function mergeConfig<C extends object>(defaults: C, partial: Partial<C>, label: string): C {
  const known = new Set(Object.keys(defaults));
  for (const k of Object.keys(partial)) {
    if (!known.has(k)) throw new InvalidOptionError(k, `unknown ${label} parameter "${k}"; known: ${[...known].join(', ')}`);
  }
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<C>;
  return { ...defaults, ...defined };
}

/** Checks for numeric fields of a merged config `c`. */
export function fieldChecks<C extends object>(c: C): { int(name: keyof C & string, min: number): void; frac(name: keyof C & string, maxExclusive?: number): void } {
  return {
    int(name, min) {
      const v = c[name] as unknown;
      if (!Number.isInteger(v) || (v as number) < min) throw new InvalidOptionError(name, `${name} must be an integer ≥ ${min}, got ${String(v)}`);
    },
    frac(name, maxExclusive = 1) {
      const v = c[name] as unknown;
      if (!(typeof v === 'number' && v >= 0 && v < maxExclusive)) throw new InvalidOptionError(name, `${name} must be in [0, ${maxExclusive}), got ${String(v)}`);
    },
  };
}

/**
 * Parses `key=value` parameters (the CLI's `--param`): kebab/snake keys become camelCase, `true`/`false`
 * booleans, numbers numbers, keys in `lists` comma-separated number lists, anything else stays a string.
 */
export function parseConfigParams(params: readonly string[] | Record<string, string>, lists: readonly string[] = [], aliases: Record<string, string> = {}): Record<string, unknown> {
  const pairs = Array.isArray(params) ? params.map(splitPair) : Object.entries(params);
  const out: Record<string, unknown> = {};
  for (const [rawKey, raw] of pairs) {
    const key = aliases[rawKey] ?? rawKey;
    const camel = key.replace(/[-_]([a-z])/g, (_, ch: string) => ch.toUpperCase());
    if (lists.includes(camel)) out[camel] = raw.split(',').map((x) => Number(x));
    else if (raw === 'true' || raw === 'false') out[camel] = raw === 'true';
    else if (raw !== '' && Number.isFinite(Number(raw))) out[camel] = Number(raw);
    else out[camel] = raw;
  }
  return out;
}

function splitPair(p: string): [string, string] {
  const eq = p.indexOf('=');
  if (eq <= 0) throw new InvalidOptionError('param', `--param expects key=value, got "${p}"`);
  return [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
}
