import { InvalidOptionError } from '../../src/errors.js';
import type { ItemScoringTableOptions } from './item-scoring-table.js';

/**
 * Serving top-k options from the environment, for models loaded from a directory (the embedded SDK, the
 * pool's workers and the Kafka worker all load that way): `NEXTCLICK_SCORING=exact|ann|auto` and optionally
 * `NEXTCLICK_ANN_CANDIDATES=<n>`. Unset: undefined (score every item, then top-k).
 */
export function scoringFromEnv(env: NodeJS.ProcessEnv = process.env): ItemScoringTableOptions | undefined {
  const mode = env['NEXTCLICK_SCORING']?.trim();
  if (!mode) return undefined;
  if (mode !== 'exact' && mode !== 'ann' && mode !== 'auto') throw new InvalidOptionError('NEXTCLICK_SCORING', `NEXTCLICK_SCORING must be exact, ann or auto, got "${mode}"`);
  const c = env['NEXTCLICK_ANN_CANDIDATES']?.trim();
  if (c === undefined || c === '') return { scoring: mode };
  const candidates = Number(c);
  if (!Number.isInteger(candidates) || candidates < 1) throw new InvalidOptionError('NEXTCLICK_ANN_CANDIDATES', `NEXTCLICK_ANN_CANDIDATES must be an integer ≥ 1, got "${c}"`);
  return { scoring: mode, candidates };
}
