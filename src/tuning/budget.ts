import { InvalidOptionError } from '../errors.js';

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/**
 * Parses a wall-clock budget: plain seconds (`120`, `90.5`) or a duration of hours, minutes and seconds
 * (`30m`, `1h`, `1h30m`, `45s`). Throws InvalidOptionError naming `option` for anything else or a budget ≤ 0.
 */
export function parseDurationSeconds(raw: string, option = 'budget'): number {
  const text = raw.trim().toLowerCase();
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    seconds = Number(text);
  } else if (/^(\d+(\.\d+)?[hms])+$/.test(text)) {
    seconds = 0;
    const seen = new Set<string>();
    for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) {
      if (seen.has(unit!)) throw new InvalidOptionError(option, `--${option} names "${unit}" twice in "${raw}"; write e.g. 1h30m`);
      seen.add(unit!);
      seconds += Number(n) * UNIT_SECONDS[unit!]!;
    }
  } else {
    throw new InvalidOptionError(option, `--${option} expects seconds (120) or a duration (30m, 1h, 1h30m, 45s), got "${raw}"`);
  }
  if (!(seconds > 0 && Number.isFinite(seconds))) throw new InvalidOptionError(option, `--${option} must be more than 0 seconds, got "${raw}"`);
  return seconds;
}

/** `1h02m03s`-style text of a number of seconds, for progress lines. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}
