import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { readTransformer, saveTransformer } from '../../../models/transformer/io.js';
import { TransformerParams } from '../../../models/transformer/params.js';

describe('transformer model directories of earlier versions', () => {
  beforeAll(async () => { await selectBackend({ backend: 'wasm' }); });

  it('load without retired settings at their neutral values, and are refused when they depend on a removed option', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nextclick-tx-io-'));
    try {
      const p = TransformerParams.fromConfig({ hiddenSize: 8, heads: 2, feedForwardSize: 8, maxLength: 4 }, 5);
      await saveTransformer(dir, { params: p, config: p.config, vocabulary: ItemVocabulary.fromIds(['a', 'b', 'c', 'd', 'e']) });
      const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { config: Record<string, unknown> };
      const withConfig = async (extra: Record<string, unknown>) => {
        await writeFile(join(dir, 'model.json'), JSON.stringify({ ...manifest, config: { ...manifest.config, ...extra } }));
        return readTransformer(dir);
      };
      const old = await withConfig({ tiedEmbedding: true, sessionMap: false, readoutResidual: false, transitionPriorFromEpoch: 8 });
      expect(Array.from(old.params.itemTable)).toEqual(Array.from(p.itemTable));
      for (const extra of [{ sessionMap: true }, { tiedEmbedding: false }, { readoutResidual: true }, { readout: 'query-attention' }, { readout: 'mixed' }]) {
        await expect(withConfig(extra)).rejects.toMatchObject({ code: 'MODEL_FORMAT', message: expect.stringMatching(/no longer has/) });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
