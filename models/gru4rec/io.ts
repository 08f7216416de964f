import { mkdir } from 'node:fs/promises';
import { fileIOHandler, loadWeights, saveWeights } from '../../src/backend/weights-io.js';
import { selectBackend } from '../../src/backend/select-backend.js';
import { safeJoin, writeManifest, type ModelManifest } from '../../src/persistence/model-dir.js';
import type { LoadedModel } from '../../src/scoring/model-registry.js';
import { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';
import { resolveGru4RecConfig, type Gru4RecConfig } from './config.js';
import { Gru4RecParams } from './params.js';
import { readModelDirectory, VOCABULARY_FILE } from '../training/model-directory.js';
import { Gru4RecScorer } from './scorer.js';
import { servingOptionsFromEnv } from '../scoring/scoring-env.js';

export const GRU4REC_KIND = 'gru4rec';
/** Version of the gru4rec weights layout inside the model directory. */
export const GRU4REC_FORMAT_VERSION = 1;

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

/** Models saved before `repeatBias` existed have none (whatever the default is now). */
const SAVED_BEFORE_REPEAT_BIAS: Partial<Gru4RecConfig> = { repeatBias: false };

/** Directories saved before the time budget was named `maxSeconds` (as the transformer's) call it `timeBudgetSeconds`. */
function renameSavedFields(raw: Partial<Gru4RecConfig> & { timeBudgetSeconds?: number }): Partial<Gru4RecConfig> {
  const { timeBudgetSeconds, ...rest } = raw;
  return timeBudgetSeconds === undefined || rest.maxSeconds !== undefined ? rest : { ...rest, maxSeconds: timeBudgetSeconds };
}

/** Reads a gru4rec model directory into Float32Array params, validating every shape. */
export async function readGru4Rec(dir: string, manifest?: ModelManifest): Promise<{ params: Gru4RecParams; config: Gru4RecConfig; vocabulary: ItemVocabulary; manifest: ModelManifest }> {
  const { config, vocabulary, manifest: man } = await readModelDirectory(dir, { kind: GRU4REC_KIND, versionKey: 'gru4recFormatVersion', version: GRU4REC_FORMAT_VERSION, resolve: (raw) => resolveGru4RecConfig(renameSavedFields({ ...SAVED_BEFORE_REPEAT_BIAS, ...(raw as Partial<Gru4RecConfig>) })) }, manifest);
  const weights = await loadWeights(fileIOHandler(dir));
  const params = Gru4RecParams.fromNamed(config, vocabulary.size, weights);
  return { params, config, vocabulary, manifest: man };
}

/** The model-registry loader for kind `gru4rec`. */
export async function loadGru4Rec(dir: string, manifest?: ModelManifest): Promise<LoadedModel & { scorer: Gru4RecScorer }> {
  await selectBackend();
  const m = await readGru4Rec(dir, manifest);
  // Serving top-k (exact / ANN) is opt-in through NEXTCLICK_SCORING, which also reaches pool and Kafka workers.
  return { scorer: new Gru4RecScorer(m.params, servingOptionsFromEnv(dir, m.manifest)), vocabulary: m.vocabulary, manifest: m.manifest };
}
