import { InvalidOptionError } from '../../src/errors.js';
import { safeJoin, type ModelManifest } from '../../src/persistence/model-dir.js';
import { itemScoringTableDefaults, type ItemScoringTableOptions } from './item-scoring-table.js';

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

/**
 * Where a model directory keeps its ANN graph for the given options. The name carries the manifest's save time
 * and the graph parameters, so a retrained model or other graph settings never load a stale graph.
 */
export function annIndexFile(dir: string, manifest: ModelManifest, options: ItemScoringTableOptions): string {
  const o = { ...itemScoringTableDefaults, ...options };
  const stamp = manifest.createdAt.replace(/[^0-9]/g, '');
  return safeJoin(dir, `ann-${stamp}-m${o.connectivity}-ef${o.expansionAdd}.hnsw`);
}

/**
 * The serving top-k options of a model loaded from `dir` (GRU4Rec and the transformer): {@link scoringFromEnv},
 * with the ANN graph kept in the model directory (built on the first load, read on later ones).
 */
export function servingOptionsFromEnv(dir: string, manifest: ModelManifest): ItemScoringTableOptions | undefined {
  const scoring = scoringFromEnv();
  return scoring && scoring.scoring !== 'exact' ? { ...scoring, indexFile: annIndexFile(dir, manifest, scoring) } : scoring;
}
