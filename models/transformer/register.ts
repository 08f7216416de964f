// Registers the transformer (and the BST ranking stage) with the SDK's model registry, the CLI trainers
// and `nextclick demo`. Imported for its side effects by models/index.ts.
import { registerDemoModel, registerTrainer } from '../../src/cli/trainers.js';
import { registerModelKind } from '../../src/scoring/model-registry.js';
import { TRANSFORMER_KIND, loadTransformer } from './io.js';

registerModelKind(TRANSFORMER_KIND, (dir, manifest) => loadTransformer(dir, manifest));
registerTrainer(TRANSFORMER_KIND, async () => (await import('./cli.js')).transformerTrainer);
registerDemoModel({
  label: 'transformer',
  async train(corpus, options) {
    const { trainTransformer } = await import('./train.js');
    const { TransformerScorer } = await import('./scorer.js');
    // Small and short: the demo must stay within seconds. The generated log's next item depends on the order of
    // the last clicks, which the newest position's output ('last' readout, dot-product scores) expresses and the
    // item-attention readout (the default, best on Diginetica) cannot; see test/models/transformer/train.test.ts.
    const r = await trainTransformer(corpus, {
      config: options.quick
        ? { readout: 'last', cosineTemperature: 0, hiddenSize: 32, blocks: 1, feedForwardSize: 64, maxLength: 10, epochs: 6, nSample: 256, batchSize: 64, learningRate: 0.005, dropoutEmbedding: 0.1, dropoutHidden: 0.1, validationFraction: 0, seed: options.seed }
        : { hiddenSize: 64, epochs: 8, nSample: 512, batchSize: 64, validationFraction: 0.1, seed: options.seed },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.progressStream ? { progress: true, progressStream: options.progressStream } : {}),
    });
    return { scorer: new TransformerScorer(r.params), vocabulary: r.vocabulary };
  },
});

registerModelKind('bst-ranker', async (dir, manifest) => (await import('../bst-ranker/io.js')).loadBstRanker(dir, manifest));
registerTrainer('bst-ranker', async () => (await import('../bst-ranker/cli.js')).bstRankerTrainer);
