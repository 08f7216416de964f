import { mkdir } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileIOHandler, loadWeights, saveWeights } from '../../src/backend/weights-io.js';
import { selectBackend } from '../../src/backend/select-backend.js';
import { ModelFormatError } from '../../src/errors.js';
import { safeJoin, writeManifest, type ModelManifest } from '../../src/persistence/model-dir.js';
import { readModelDirectory, VOCABULARY_FILE } from '../training/model-directory.js';
import { loadModel, type LoadedModel } from '../../src/scoring/model-registry.js';
import { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';
import { resolveBstRankerConfig, type BstRankerConfig } from './config.js';
import { BstRankerParams } from './params.js';
import { BstRanker } from './ranker.js';
import { TwoStageScorer, defaultTwoStageOptions, type TwoStageOptions } from './two-stage.js';

export const BST_RANKER_KIND = 'bst-ranker';
export const BST_RANKER_FORMAT_VERSION = 1;

export interface SavableBstRanker {
  readonly params: BstRankerParams;
  readonly vocabulary: ItemVocabulary;
  /** The first-stage model directory; stored relative to the ranker directory when possible. */
  readonly candidatesDir: string;
  readonly twoStage?: TwoStageOptions;
  readonly metrics?: Record<string, unknown>;
}

/**
 * Writes a ranker directory (kind `bst-ranker`). It names its candidates model, so loading it gives the
 * whole two-stage pipeline as one Scorer (`nextclick evaluate --model RANKER_DIR`).
 */
export async function saveBstRanker(dir: string, m: SavableBstRanker): Promise<ModelManifest> {
  await mkdir(dir, { recursive: true });
  await saveWeights(fileIOHandler(dir), m.params.named());
  await m.vocabulary.save(safeJoin(dir, VOCABULARY_FILE));
  const candidates = isAbsolute(m.candidatesDir) ? m.candidatesDir : relative(resolve(dir), resolve(m.candidatesDir));
  return writeManifest(dir, {
    kind: BST_RANKER_KIND,
    config: { ...m.params.getConfig(), bstRankerFormatVersion: BST_RANKER_FORMAT_VERSION, candidatesDir: candidates, twoStage: { ...defaultTwoStageOptions, ...(m.twoStage ?? {}) } },
    itemCount: m.vocabulary.size,
    metrics: m.metrics ?? {},
  });
}

export async function readBstRanker(dir: string, manifest?: ModelManifest): Promise<{ params: BstRankerParams; vocabulary: ItemVocabulary; candidatesDir: string; twoStage: TwoStageOptions; manifest: ModelManifest }> {
  const { config, vocabulary, manifest: man } = await readModelDirectory<BstRankerConfig>(dir, {
    kind: BST_RANKER_KIND,
    versionKey: 'bstRankerFormatVersion',
    version: BST_RANKER_FORMAT_VERSION,
    // The two-stage fields sit beside the ranker's own config in model.json.
    resolve: ({ candidatesDir: _c, twoStage: _t, ...raw }) => resolveBstRankerConfig(raw as Partial<BstRankerConfig>),
  }, manifest);
  const { candidatesDir, twoStage } = man.config as { candidatesDir?: unknown; twoStage?: unknown };
  if (typeof candidatesDir !== 'string') throw new ModelFormatError(`${dir}/model.json does not name its candidates model (config.candidatesDir)`);
  const params = BstRankerParams.fromNamed(config, vocabulary.size, await loadWeights(fileIOHandler(dir)));
  return { params, vocabulary, candidatesDir: isAbsolute(candidatesDir) ? candidatesDir : resolve(dir, candidatesDir), twoStage: (twoStage ?? {}) as TwoStageOptions, manifest: man };
}

/** Registry loader: the candidates model plus this ranker, as a {@link TwoStageScorer}. */
export async function loadBstRanker(dir: string, manifest?: ModelManifest, overrides: TwoStageOptions = {}): Promise<LoadedModel & { scorer: TwoStageScorer }> {
  await selectBackend();
  const m = await readBstRanker(dir, manifest);
  const first = await loadModel(m.candidatesDir);
  if (first.vocabulary.size !== m.vocabulary.size) throw new ModelFormatError(`ranker ${dir} has ${m.vocabulary.size} items but its candidates model ${m.candidatesDir} has ${first.vocabulary.size}; retrain the ranker with --candidates pointing at that model`);
  return { scorer: new TwoStageScorer(first.scorer, new BstRanker(m.params), { ...m.twoStage, ...overrides }), vocabulary: first.vocabulary, manifest: m.manifest };
}
