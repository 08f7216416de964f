import { mkdir } from 'node:fs/promises';
import { fileIOHandler, loadWeights, saveWeights } from '../../src/backend/weights-io.js';
import { selectBackend } from '../../src/backend/select-backend.js';
import { safeJoin, writeManifest, type ModelManifest } from '../../src/persistence/model-dir.js';
import type { LoadedModel } from '../../src/scoring/model-registry.js';
import { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';
import { resolveTransformerConfig, type TransformerConfig } from './config.js';
import { TransformerParams } from './params.js';
import { TransitionGraph } from './transitions.js';
import { readModelDirectory, VOCABULARY_FILE } from '../training/model-directory.js';
import { ModelFormatError } from '../../src/errors.js';
import { servingOptionsFromEnv } from '../scoring/scoring-env.js';
import { TransformerScorer } from './scorer.js';

export const TRANSFORMER_KIND = 'transformer';
/** Version of the transformer weights layout inside the model directory. */
export const TRANSFORMER_FORMAT_VERSION = 1;

export interface SavableTransformer {
  readonly params: TransformerParams;
  readonly config: TransformerConfig;
  readonly vocabulary: ItemVocabulary;
  readonly metrics?: Record<string, unknown>;
}

/** Writes a model directory: model.json (kind transformer), weights.json + weights.bin (TF.js format), vocabulary.json. */
export async function saveTransformer(dir: string, m: SavableTransformer, label?: string): Promise<ModelManifest> {
  await mkdir(dir, { recursive: true });
  // The transition prior's graph is saved beside the trained weights (it is part of the model).
  await saveWeights(fileIOHandler(dir), [...m.params.named(), ...(m.params.transitionPrior()?.graph.named() ?? [])]);
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
  const { config, vocabulary, manifest: man } = await readModelDirectory(dir, { kind: TRANSFORMER_KIND, versionKey: 'transformerFormatVersion', version: TRANSFORMER_FORMAT_VERSION, resolve: (raw) => resolveTransformerConfig(withoutRetiredSettings(raw)) }, manifest);
  const weights = await loadWeights(fileIOHandler(dir));
  const graph = config.transitionPrior ? TransitionGraph.fromNamed(weights, vocabulary.size) : undefined;
  for (const name of [...weights.keys()]) if (TransitionGraph.isGraphWeight(name)) weights.delete(name);
  const params = TransformerParams.fromNamed(config, vocabulary.size, weights);
  params.transitions = graph;
  return { params, config, vocabulary, manifest: man };
}

/**
 * Settings that earlier versions saved and measurement removed (docs/experiments/transformer-options.md): a
 * saved model at the neutral value loads without them; one that depends on a removed option is refused.
 */
const RETIRED: Record<string, { neutral: (v: unknown) => boolean }> = {
  tiedEmbedding: { neutral: (v) => v === true },
  sessionMap: { neutral: (v) => v === false },
  readoutResidual: { neutral: (v) => v === false },
  // A training schedule only: the trained weight serves the same whatever epoch it started in.
  transitionPriorFromEpoch: { neutral: () => true },
};

function withoutRetiredSettings(raw: Record<string, unknown>): Partial<TransformerConfig> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const retired = RETIRED[k];
    if (!retired) { out[k] = v; continue; }
    if (!retired.neutral(v)) throw new ModelFormatError(`this model was trained with ${k}=${String(v)}, which this nextclick no longer has (it did not help in measurement); retrain it without that setting`);
  }
  if (out.readout === 'mixed' || out.readout === 'query-attention') throw new ModelFormatError(`this model was trained with readout='${String(out.readout)}', which this nextclick no longer has (it did not help in measurement); retrain it with readout 'item-attention' or 'last'`);
  return out as Partial<TransformerConfig>;
}

/** The model-registry loader for kind `transformer`. */
export async function loadTransformer(dir: string, manifest?: ModelManifest): Promise<LoadedModel & { scorer: TransformerScorer }> {
  await selectBackend();
  const m = await readTransformer(dir, manifest);
  return { scorer: new TransformerScorer(m.params, servingOptionsFromEnv(dir, m.manifest)), vocabulary: m.vocabulary, manifest: m.manifest };
}
