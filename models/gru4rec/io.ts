import { mkdir } from 'node:fs/promises';
import { fileIOHandler, loadWeights, saveWeights } from '../../src/backend/weights-io.js';
import { selectBackend } from '../../src/backend/select-backend.js';
import { ModelFormatError } from '../../src/errors.js';
import { readManifest, safeJoin, writeManifest, type ModelManifest } from '../../src/persistence/model-dir.js';
import type { LoadedModel } from '../../src/scoring/model-registry.js';
import { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';
import { resolveGru4RecConfig, type Gru4RecConfig } from './config.js';
import { Gru4RecParams } from './params.js';
import { Gru4RecScorer } from './scorer.js';
import { annIndexFile, scoringFromEnv } from '../scoring/scoring-env.js';

export const GRU4REC_KIND = 'gru4rec';
/** Version of the gru4rec weights layout inside the model directory. */
export const GRU4REC_FORMAT_VERSION = 1;
const VOCABULARY_FILE = 'vocabulary.json';

export interface SavableGru4Rec {
  readonly params: Gru4RecParams;
  readonly config: Gru4RecConfig;
  readonly vocabulary: ItemVocabulary;
  readonly metrics?: Record<string, unknown>;
  readonly epochs?: readonly unknown[];
  readonly bestEpoch?: number;
  readonly trainSeconds?: number;
  readonly backend?: string;
}

/** Writes a model directory: model.json (kind gru4rec), weights.json + weights.bin (TF.js format), vocabulary.json. */
export async function saveGru4Rec(dir: string, m: SavableGru4Rec, label?: string): Promise<ModelManifest> {
  await mkdir(dir, { recursive: true });
  await saveWeights(fileIOHandler(dir), m.params.named());
  await m.vocabulary.save(safeJoin(dir, VOCABULARY_FILE));
  const metrics = { ...(m.metrics ?? {}), ...(m.epochs ? { epochs: m.epochs } : {}), ...(m.bestEpoch ? { bestEpoch: m.bestEpoch } : {}), ...(m.trainSeconds ? { trainSeconds: m.trainSeconds } : {}), ...(m.backend ? { backend: m.backend } : {}) };
  return writeManifest(dir, {
    kind: GRU4REC_KIND,
    config: { ...m.config, gru4recFormatVersion: GRU4REC_FORMAT_VERSION },
    itemCount: m.vocabulary.size,
    metrics,
    ...(label ? { label } : {}),
  });
}

/** Reads a gru4rec model directory into Float32Array params, validating every shape. */
export async function readGru4Rec(dir: string, manifest?: ModelManifest): Promise<{ params: Gru4RecParams; config: Gru4RecConfig; vocabulary: ItemVocabulary; manifest: ModelManifest }> {
  const man = manifest ?? (await readManifest(dir));
  if (man.kind !== GRU4REC_KIND) throw new ModelFormatError(`${dir} holds a "${man.kind}" model, not gru4rec`);
  const { gru4recFormatVersion, ...raw } = man.config as Record<string, unknown>;
  if (typeof gru4recFormatVersion === 'number' && gru4recFormatVersion > GRU4REC_FORMAT_VERSION) {
    throw new ModelFormatError(`${dir} uses gru4rec format ${gru4recFormatVersion}; this nextclick reads up to ${GRU4REC_FORMAT_VERSION}`);
  }
  let config: Gru4RecConfig;
  try {
    config = resolveGru4RecConfig(raw as Partial<Gru4RecConfig>);
  } catch (err) {
    throw new ModelFormatError(`${dir}/model.json has an invalid gru4rec config: ${(err as Error).message}`, { cause: err });
  }
  const vocabulary = await ItemVocabulary.load(safeJoin(dir, VOCABULARY_FILE));
  if (vocabulary.size !== man.itemCount) throw new ModelFormatError(`${dir}: vocabulary has ${vocabulary.size} items but model.json says ${man.itemCount}`);
  const weights = await loadWeights(fileIOHandler(dir));
  const params = Gru4RecParams.fromNamed(config, vocabulary.size, weights);
  return { params, config, vocabulary, manifest: man };
}

/** The model-registry loader for kind `gru4rec`. */
export async function loadGru4Rec(dir: string, manifest?: ModelManifest): Promise<LoadedModel & { scorer: Gru4RecScorer }> {
  await selectBackend();
  const m = await readGru4Rec(dir, manifest);
  // Serving top-k (exact / ANN) is opt-in through NEXTCLICK_SCORING, which also reaches pool and Kafka workers.
  // The ANN graph is persisted in the model directory: built on the first load, read on later ones.
  const scoring = scoringFromEnv();
  const options = scoring && scoring.scoring !== 'exact' ? { ...scoring, indexFile: annIndexFile(dir, m.manifest, scoring) } : scoring;
  return { scorer: new Gru4RecScorer(m.params, options), vocabulary: m.vocabulary, manifest: m.manifest };
}
