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

/**
 * Loads any saved model directory by the kind in its `model.json`. A kind not registered yet loads the packages
 * that register kinds (the baselines, then `models/`, which brings TensorFlow.js) on first use, so importing the
 * core entry point is enough to load every kind.
 */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const manifest = await readManifest(dir);
  let loader = loaders.get(manifest.kind);
  let packageFailure: string | undefined;
  if (!loader) {
    await import('../baselines/index.js');
    loader = loaders.get(manifest.kind);
  }
  if (!loader) {
    packageFailure = await loadModelPackages();
    loader = loaders.get(manifest.kind);
  }
  if (!loader) {
    const why = packageFailure ? ` (${packageFailure})` : '';
    throw new NextclickError('MODEL_FORMAT', `no loader for model kind "${manifest.kind}" in ${dir}; known kinds: ${registeredModelKinds().join(', ') || 'none'}${why}. Check that ${dir} was written by nextclick, or register the kind with registerModelKind`);
  }
  return loader(dir, manifest);
}

// A variable specifier: src/ keeps no static edge to models/ (resolved from dist/src/scoring/ to dist/models/).
const MODELS_ENTRY = '../../models/index.js';
let modelPackages: Promise<string | undefined> | undefined;

/**
 * Imports `models/index.js` once, if this build has it, so neural models register their loaders, trainers and
 * demo entries. Resolves to undefined when loaded or absent, or to the reason it failed to load (e.g. a
 * missing TensorFlow.js backend), which callers report without failing.
 */
export function loadModelPackages(): Promise<string | undefined> {
  modelPackages ??= import(MODELS_ENTRY).then(
    () => undefined,
    (err: unknown) => {
      const e = err as { code?: string; message?: string };
      if (e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('models/index')) return undefined;
      return `model packages failed to load: ${e.message ?? String(err)}`;
    },
  );
  return modelPackages;
}
