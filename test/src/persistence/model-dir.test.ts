import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL_FORMAT_VERSION, readManifest, safeJoin, writeManifest } from '../../../src/persistence/model-dir.js';
import { loadModel } from '../../../src/scoring/model-registry.js';

describe('model directory', () => {
  it('refuses paths that leave the directory', () => {
    expect(() => safeJoin('/m', '../etc/passwd')).toThrowError(expect.objectContaining({ code: 'UNSAFE_PATH' }) as Error);
    expect(() => safeJoin('/m', '/etc/passwd')).toThrowError(expect.objectContaining({ code: 'UNSAFE_PATH' }) as Error);
    expect(() => safeJoin('/m', 'a/../../b')).toThrowError(expect.objectContaining({ code: 'UNSAFE_PATH' }) as Error);
    expect(safeJoin('/m', 'weights.bin')).toBe('/m/weights.bin');
  });
  it('writes and reads a manifest; refuses newer versions and non-models', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'model-'));
    await writeManifest(dir, { kind: 'toy', config: { a: 1 }, itemCount: 3 });
    const m = await readManifest(dir);
    expect(m).toMatchObject({ format: 'nextclick.model', version: MODEL_FORMAT_VERSION, kind: 'toy', itemCount: 3 });
    await writeFile(join(dir, 'model.json'), JSON.stringify({ ...m, version: MODEL_FORMAT_VERSION + 1 }));
    await expect(readManifest(dir)).rejects.toThrow(/Upgrade nextclick/);
    await expect(readManifest(join(dir, 'nope'))).rejects.toThrow(/not a model directory/);
  });
  it('loadModel names the known kinds for an unknown one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'model-'));
    await writeManifest(dir, { kind: 'no-such-kind', config: {}, itemCount: 1 });
    await expect(loadModel(dir)).rejects.toThrow(/no loader for model kind "no-such-kind"/);
  });
});
