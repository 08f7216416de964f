// `nextclick setup tensorflow` without the network or a build: the prerequisite checks (each missing tool
// named with its Debian package), the no-op when a current build is there, and that a stale build is not
// taken for current. The real build is exercised by CI (scripts/tensorflow/setup.mjs) and tensorflow.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTensorflowBuild, TensorflowBuildLayout } from '../../../src/backend/tensorflow-build.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { main } from '../../../src/cli/main.js';
import { checkTensorflowPrerequisites, pinnedTensorflowBuild, setupTensorflow } from '../../../src/cli/tensorflow-setup.js';
import { MissingPrerequisiteError } from '../../../src/errors.js';
import { captureIo } from '../../helpers/capture-io.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nextclick-tf-setup-'));
  dirs.push(dir);
  return dir;
}

/** A build directory with a manifest and a (dummy) binding, as a finished setup leaves it. */
async function fakeBuild(manifest: object): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, TensorflowBuildLayout.tfjsNode, 'build', 'Release'), { recursive: true });
  await writeFile(join(dir, TensorflowBuildLayout.tfjsNode, TensorflowBuildLayout.binding), '');
  await writeFile(join(dir, TensorflowBuildLayout.manifest), JSON.stringify(manifest));
  return dir;
}

const realPython = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();

describe('nextclick setup tensorflow', () => {
  it('names the Debian package of a missing Python', async () => {
    const empty = await tempDir();
    const err = (() => { try { checkTensorflowPrerequisites({ env: { PATH: empty }, execPath: process.execPath }); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(MissingPrerequisiteError);
    expect(err).toMatchObject({ code: 'MISSING_PREREQUISITE', tool: 'python3', debianPackage: 'python3' });
    expect((err as Error).message).toMatch(/apt-get install python3/);
  });

  it.skipIf(realPython === '')('names the Debian package of a missing C++ compiler', async () => {
    const empty = await tempDir();
    expect(() => checkTensorflowPrerequisites({ env: { PATH: empty, PYTHON: realPython, CXX: 'no-such-g++' }, execPath: process.execPath }))
      .toThrow(expect.objectContaining({ code: 'MISSING_PREREQUISITE', tool: 'g++', debianPackage: 'g++' }));
  });

  it("names the Debian package of missing Node headers", async () => {
    const prefix = await tempDir();
    const err = (() => { try { checkTensorflowPrerequisites({ env: process.env, execPath: join(prefix, 'bin', 'node') }); } catch (e) { return e; } })();
    // Where another tool is missing first, that one is named instead (still typed).
    expect(err).toBeInstanceOf(MissingPrerequisiteError);
    if ((err as MissingPrerequisiteError).tool === 'node-headers') {
      expect((err as Error).message).toContain(join(prefix, 'include', 'node', 'node_api.h'));
      expect((err as MissingPrerequisiteError).debianPackage).toBe('libnode-dev');
    }
  });

  it('is a no-op when a build with the same pins is there (no tool runs: PATH is empty)', async () => {
    const dir = await fakeBuild({ ...pinnedTensorflowBuild('cpu'), tensorflowVersion: '2.21.0', builtAt: '2026-12-07T00:00:00Z' });
    const lines: string[] = [];
    const result = await setupTensorflow({ dir, env: { PATH: await tempDir() }, log: (l) => lines.push(l) });
    expect(result).toMatchObject({ dir, flavour: 'cpu', built: false });
    expect(lines.join('\n')).toMatch(/already built/);
    expect(readTensorflowBuild(dir)?.wheelSha256).toBe(pinnedTensorflowBuild('cpu').wheelSha256);
  });

  it('rebuilds a build of other pins, another flavour, or with --force (here: stops at the missing Python)', async () => {
    const current = { ...pinnedTensorflowBuild('cpu'), tensorflowVersion: '2.21.0', builtAt: '2026-12-07T00:00:00Z' };
    const empty = await tempDir();
    for (const [manifest, options] of [
      [{ ...current, wheelSha256: '0'.repeat(64) }, {}],
      [current, { gpu: true }],
      [current, { force: true }],
    ] as const) {
      const dir = await fakeBuild(manifest);
      await expect(setupTensorflow({ dir, env: { PATH: empty }, ...options })).rejects.toMatchObject({ code: 'MISSING_PREREQUISITE', tool: 'python3' });
    }
  });

  it('the CLI wants `setup tensorflow` and reports a missing tool with its code', async () => {
    const none = captureIo();
    expect(await main(['setup'], none.io)).toBe(2);
    expect(none.text().stderr).toMatch(/nextclick setup tensorflow/);
    const other = captureIo();
    expect(await main(['setup', 'pytorch', '--json'], other.io)).toBe(2);
    expect(JSON.parse(other.text().stdout)).toMatchObject({ ok: false, error: { code: 'INVALID_OPTION' } });
    const dir = await fakeBuild({ ...pinnedTensorflowBuild('cpu'), tensorflowVersion: '2.21.0', builtAt: '2026-12-07T00:00:00Z' });
    const done = captureIo();
    expect(await main(['setup', 'tensorflow', '--dir', dir, '--json'], done.io)).toBe(0);
    expect(JSON.parse(done.text().stdout)).toMatchObject({ ok: true, built: false, flavour: 'cpu', dir });
  });

  it('without a build, the tensorflow failure names both native routes and the setup command, then falls back', async () => {
    const empty = await tempDir();
    const previous = process.env['NEXTCLICK_TENSORFLOW_DIR'];
    process.env['NEXTCLICK_TENSORFLOW_DIR'] = empty;
    try {
      const selection = await selectBackend({ backend: 'tensorflow', force: true });
      const attempt = selection.attempts.find((a) => a.backend === 'tensorflow');
      if (selection.backend !== 'tensorflow') { // an official @tensorflow/tfjs-node(-gpu) that loads would win here
        expect(attempt?.error).toContain(`nextclick build: none in ${empty}`);
        expect(attempt?.error).toMatch(/npx nextclick setup tensorflow/);
        expect(attempt?.error).toMatch(/@tensorflow\/tfjs-node-gpu: not installed/);
        expect(['webgpu', 'wasm', 'cpu']).toContain(selection.backend);
      }
    } finally {
      if (previous === undefined) delete process.env['NEXTCLICK_TENSORFLOW_DIR'];
      else process.env['NEXTCLICK_TENSORFLOW_DIR'] = previous;
    }
  });
});
