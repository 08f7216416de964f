import { NextclickError } from '../errors.js';
import { readManifest, type ModelManifest } from '../persistence/model-dir.js';
import type { ItemVocabulary } from '../vocab/item-vocabulary.js';
import type { Scorer } from './scorer.js';

/** A model loaded from a directory: its scorer, vocabulary and manifest. */
export interface LoadedModel {
  readonly scorer: Scorer;
  readonly vocabulary: ItemVocabulary;
  readonly manifest: ModelManifest;
}

/** Loads one kind of model directory. */
export type ModelLoader = (dir: string, manifest: ModelManifest) => Promise<LoadedModel>;

const loaders = new Map<string, ModelLoader>();

/**
 * Registers a loader for a model kind. Model packages (baselines in `src`, neural models in `models/`) call
 * this when imported, so `src` never imports `models` and `loadModel` still knows every kind.
 */
export function registerModelKind(kind: string, loader: ModelLoader): void {
  loaders.set(kind, loader);
}

export function registeredModelKinds(): string[] {
  return [...loaders.keys()].sort();
}

/** Loads any saved model directory by the kind in its `model.json`. */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const manifest = await readManifest(dir);
  const loader = loaders.get(manifest.kind);
  if (!loader) {
    throw new NextclickError('MODEL_FORMAT', `no loader for model kind "${manifest.kind}" in ${dir}; known kinds: ${registeredModelKinds().join(', ') || 'none'} (import the nextclick entry point, which registers them all)`);
  }
  return loader(dir, manifest);
}
