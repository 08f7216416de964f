import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf.js';
import { expectedWeightBytes, fileIOHandler, loadWeights, saveWeights } from '../../../src/backend/weights-io.js';
import '@tensorflow/tfjs-backend-cpu';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'nextclick-weights-'));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const weights = [
  { name: 'E', shape: [3, 4], values: Float32Array.from({ length: 12 }, (_, i) => i / 10) },
  { name: 'b', shape: [4], values: new Float32Array([1, 2, 3, 4]) },
];

describe('weights files', () => {
  it('round-trip, and the manifest describes exactly the shard bytes', async () => {
    await saveWeights(fileIOHandler(dir), weights);
    const back = await loadWeights(fileIOHandler(dir));
    expect(back.get('E')).toEqual({ shape: [3, 4], values: weights[0]!.values });
    const manifest = JSON.parse(await readFile(join(dir, 'weights.json'), 'utf8')) as { weightsManifest: { weights: Parameters<typeof expectedWeightBytes>[0] }[] };
    expect(expectedWeightBytes(manifest.weightsManifest[0]!.weights)).toBe(16 * 4);
  });

  it('a truncated or padded shard is a MODEL_FORMAT error naming the file, not a TF.js shape error', async () => {
    await saveWeights(fileIOHandler(dir), weights);
    await truncate(join(dir, 'weights.bin'), 40);
    await expect(loadWeights(fileIOHandler(dir))).rejects.toMatchObject({
      code: 'MODEL_FORMAT',
      message: expect.stringMatching(new RegExp(`${join(dir, 'weights.bin')} holds 40 bytes but .*weights\\.json describes 64: the weights are truncated`)),
    });
    await writeFile(join(dir, 'weights.bin'), Buffer.alloc(80));
    await expect(loadWeights(fileIOHandler(dir))).rejects.toMatchObject({ code: 'MODEL_FORMAT', message: expect.stringContaining('not those of this manifest') });
  });
});
