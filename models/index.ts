/// <reference types="node" preserve="true" />
// `nextclick/models`: the neural models and the TensorFlow.js backend selection. Importing it registers every model
// kind with the SDK (saved-directory loaders), the CLI (trainers) and `nextclick demo`; src/ reaches it only through
// dynamic imports.
import { registerDemoModel, registerTrainer } from '../src/cli/trainers.js';
import { registerModelKind } from '../src/scoring/model-registry.js';
import { GRU4REC_KIND, loadGru4Rec } from './gru4rec/io.js';

registerModelKind(GRU4REC_KIND, (dir, manifest) => loadGru4Rec(dir, manifest));
registerTrainer(GRU4REC_KIND, async () => (await import('./gru4rec/cli.js')).gru4recTrainer);
registerDemoModel({
  label: 'gru4rec',
  async train(corpus, options) {
    const { trainGru4Rec } = await import('./gru4rec/train.js');
    const { Gru4RecScorer } = await import('./gru4rec/scorer.js');
    // Small and short: the demo must stay within seconds.
    const r = await trainGru4Rec(corpus, {
      config: options.quick
        ? { layers: [64], epochs: 3, nSample: 256, batchSize: 64, validationFraction: 0, seed: options.seed, learningRate: 0.1, dropoutEmbedding: 0.2, dropoutHidden: 0.1 }
        : { layers: [100], epochs: 8, nSample: 512, batchSize: 64, validationFraction: 0.1, seed: options.seed },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.progressStream ? { progress: true, progressStream: options.progressStream } : {}),
    });
    return { scorer: new Gru4RecScorer(r.params), vocabulary: r.vocabulary };
  },
});

export { trainGru4Rec } from './gru4rec/train.js';
export type { Gru4RecTrainOptions, Gru4RecTrainResult, Gru4RecEpochMetrics, Gru4RecTrainingData } from './gru4rec/train.js';
export { Gru4RecScorer } from './gru4rec/scorer.js';
export { saveGru4Rec, loadGru4Rec, readGru4Rec, GRU4REC_KIND } from './gru4rec/io.js';
export { resolveGru4RecConfig, defaultGru4RecConfig, parseGru4RecParams } from './gru4rec/config.js';
export type { Gru4RecConfig } from './gru4rec/config.js';
export { gru4recTrainer } from './gru4rec/cli.js';

// Transformer and BST ranker (registration side effects; owned by the transformer work).
import './transformer/register.js';
export * from './transformer/index.js';

export { selectBackend, selectedBackend, backendEvents, BackendNames } from '../src/backend/select-backend.js';
export type { BackendName, BackendOptions, BackendSelection, BackendAttempt, BackendEvents } from '../src/backend/select-backend.js';
