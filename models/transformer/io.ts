import { mkdir } from 'node:fs/promises';
import { fileIOHandler, loadWeights, saveWeights } from '../../src/backend/weights-io.js';
import { selectBackend } from '../../src/backend/select-backend.js';
import { ModelFormatError } from '../../src/errors.js';
import { readManifest, safeJoin, writeManifest, type ModelManifest } from '../../src/persistence/model-dir.js';
import type { LoadedModel } from '../../src/scoring/model-registry.js';
import { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';
import { resolveTransformerConfig, type TransformerConfig } from './config.js';
import { TransformerParams } from './params.js';
import { TransformerScorer } from './scorer.js';

export const TRANSFORMER_KIND = 'transformer';
/** Version of the transformer weights layout inside the model directory. */
export const TRANSFORMER_FORMAT_VERSION = 1;
const VOCABULARY_FILE = 'vocabulary.json';

export interface SavableTransformer {
  readonly params: TransformerParams;
  readonly config: TransformerConfig;
  readonly vocabulary: ItemVocabulary;
  readonly metrics?: Record<string, unknown>;
}

/** Writes a model directory: model.json (kind transformer), weights.json + weights.bin (TF.js format), vocabulary.json. */
export async function saveTransformer(dir: string, m: SavableTransformer, label?: string): Promise<ModelManifest> {
  await mkdir(dir, { recursive: true });
  await saveWeights(fileIOHandler(dir), m.params.named());
  await m.vocabulary.save(safeJoin(dir, VOCABULARY_FILE));
  return writeManifest(dir, {
    kind: TRANSFORMER_KIND,
    config: { ...m.config, transformerFormatVersion: TRANSFORMER_FORMAT_VERSION },
    itemCount: m.vocabulary.size,
    metrics: m.metrics ?? {},
    ...(label ? { label } : {}),
  });
}

/** Reads a transformer model directory into Float32Array params, validating every shape. */
export async function readTransformer(dir: string, manifest?: ModelManifest): Promise<{ params: TransformerParams; config: TransformerConfig; vocabulary: ItemVocabulary; manifest: ModelManifest }> {
  const man = manifest ?? (await readManifest(dir));
  if (man.kind !== TRANSFORMER_KIND) throw new ModelFormatError(`${dir} holds a "${man.kind}" model, not a transformer`);
  const { transformerFormatVersion, ...raw } = man.config as Record<string, unknown>;
  if (typeof transformerFormatVersion === 'number' && transformerFormatVersion > TRANSFORMER_FORMAT_VERSION) {
    throw new ModelFormatError(`${dir} uses transformer format ${transformerFormatVersion}; this nextclick reads up to ${TRANSFORMER_FORMAT_VERSION}`);
  }
  let config: TransformerConfig;
  try {
    config = resolveTransformerConfig(raw as Partial<TransformerConfig>);
  } catch (err) {
    throw new ModelFormatError(`${dir}/model.json has an invalid transformer config: ${(err as Error).message}`, { cause: err });
  }
  const vocabulary = await ItemVocabulary.load(safeJoin(dir, VOCABULARY_FILE));
  if (vocabulary.size !== man.itemCount) throw new ModelFormatError(`${dir}: vocabulary has ${vocabulary.size} items but model.json says ${man.itemCount}`);
  const params = TransformerParams.fromNamed(config, vocabulary.size, await loadWeights(fileIOHandler(dir)));
  return { params, config, vocabulary, manifest: man };
}

/** The model-registry loader for kind `transformer`. */
export async function loadTransformer(dir: string, manifest?: ModelManifest): Promise<LoadedModel & { scorer: TransformerScorer }> {
  await selectBackend();
  const m = await readTransformer(dir, manifest);
  return { scorer: new TransformerScorer(m.params), vocabulary: m.vocabulary, manifest: m.manifest };
}
