import { ModelFormatError } from '../../src/errors.js';
import { readManifest, safeJoin, type ModelManifest } from '../../src/persistence/model-dir.js';
import { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';

export const VOCABULARY_FILE = 'vocabulary.json';

export interface ModelDirectoryLayout<C> {
  /** Model kind in model.json, e.g. `gru4rec`. */
  readonly kind: string;
  /** Key of the layout version inside model.json's config, e.g. `gru4recFormatVersion`. */
  readonly versionKey: string;
  /** Newest layout version this build reads. */
  readonly version: number;
  /** Validates and completes the stored config (throws on bad values). */
  readonly resolve: (raw: Record<string, unknown>) => C;
}

/**
 * The checks every neural model directory shares: right kind, a layout version this build can read, a valid
 * config, and a vocabulary whose size matches the manifest. Weights are read by the caller.
 */
export async function readModelDirectory<C>(dir: string, layout: ModelDirectoryLayout<C>, manifest?: ModelManifest): Promise<{ config: C; vocabulary: ItemVocabulary; manifest: ModelManifest }> {
  const man = manifest ?? (await readManifest(dir));
  if (man.kind !== layout.kind) throw new ModelFormatError(`${dir} holds a "${man.kind}" model, not ${layout.kind}`);
  const { [layout.versionKey]: version, ...raw } = man.config;
  if (typeof version === 'number' && version > layout.version) {
    throw new ModelFormatError(`${dir} uses ${layout.kind} format ${version}; this nextclick reads up to ${layout.version}`);
  }
  let config: C;
  try {
    config = layout.resolve(raw);
  } catch (err) {
    throw new ModelFormatError(`${dir}/model.json has an invalid ${layout.kind} config: ${(err as Error).message}`, { cause: err });
  }
  const vocabulary = await ItemVocabulary.load(safeJoin(dir, VOCABULARY_FILE));
  if (vocabulary.size !== man.itemCount) throw new ModelFormatError(`${dir}: vocabulary has ${vocabulary.size} items but model.json says ${man.itemCount}`);
  return { config, vocabulary, manifest: man };
}
