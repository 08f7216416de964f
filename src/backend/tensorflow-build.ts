// The `tensorflow` backend built by `nextclick setup tensorflow` (src/cli/tensorflow-setup.ts): tfjs-node's
// N-API binding compiled from the npm package's sources against the libtensorflow inside a PyPI TensorFlow
// wheel. This module knows the build's layout and loads it into this process's TensorFlow.js; the setup
// writes that layout. Nothing here downloads or compiles.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The two flavours the setup builds: CPU (tensorflow-cpu wheel) and GPU (tensorflow[and-cuda], CUDA 12). */
export type TensorflowFlavour = 'cpu' | 'gpu';

/** What a finished build records in its directory (written last: its presence means the build is complete). */
export interface TensorflowBuildManifest {
  readonly flavour: TensorflowFlavour;
  /** TensorFlow version of the wheel's libtensorflow, e.g. '2.21.0'. */
  readonly tensorflowVersion: string;
  readonly wheel: string;
  readonly wheelSha256: string;
  /** '@tensorflow/tfjs-node' or '@tensorflow/tfjs-node-gpu'. */
  readonly tfjsNodePackage: string;
  readonly tfjsNodeVersion: string;
  readonly tfjsNodeSha256: string;
  readonly napiVersion: number;
  readonly nodeGypVersion: string;
  readonly builtAt: string;
}

/** File names inside a build directory. */
export const TensorflowBuildLayout = {
  manifest: 'manifest.json',
  /** The unpacked npm package (binding sources, dist/ kernels), built in place. */
  tfjsNode: 'tfjs-node',
  /** The compiled addon, relative to {@link TensorflowBuildLayout.tfjsNode}. */
  binding: 'build/Release/tfjs_binding.node',
  /** The wheel's files (tensorflow/libtensorflow_cc.so.2, tensorflow/include, and nvidia/ for gpu). */
  site: 'site',
  /** Tiny CommonJS packages that hand tfjs-node's dist/ this process's tfjs-core (see {@link tfjsCoreSymbol}). */
  nodeModules: 'node_modules',
} as const;

/**
 * Global slot through which the build's `@tensorflow/tfjs` and `@tensorflow/tfjs-core` stand-ins return the
 * tfjs-core instance nextclick uses, so tfjs-node's kernels register into the same engine.
 */
export const tfjsCoreSymbol = Symbol.for('nextclick.tfjs-core');

/** The project's own cache folder: <package root>/.cache/tensorflow, found from src/ and dist/src/ alike. */
export function tensorflowCacheDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return join(dir, '.cache', 'tensorflow');
}

/**
 * Build directories `selectBackend` looks in, first found wins: NEXTCLICK_TENSORFLOW_DIR alone when set, else
 * the cache's gpu build, then its cpu build.
 */
export function tensorflowBuildDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const named = env['NEXTCLICK_TENSORFLOW_DIR']?.trim();
  if (named) return [resolve(named)];
  const cache = tensorflowCacheDir();
  return [join(cache, 'gpu'), join(cache, 'cpu')];
}

/** Reads a build's manifest, or undefined when the directory holds no finished build (or an unreadable manifest: rebuild). */
export function readTensorflowBuild(dir: string): TensorflowBuildManifest | undefined {
  const file = join(dir, TensorflowBuildLayout.manifest);
  if (!existsSync(file) || !existsSync(join(dir, TensorflowBuildLayout.tfjsNode, TensorflowBuildLayout.binding))) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TensorflowBuildManifest;
  } catch {
    return undefined;
  }
}

let loadedFrom: string | undefined;

/**
 * Loads the first finished build from {@link tensorflowBuildDirs} and registers its `tensorflow` backend
 * (does not activate it). Returns a description for the selection log; throws, naming the directories
 * searched and the setup command, when there is none or it cannot load.
 * TensorFlow's C++ info logs are silenced (TF_CPP_MIN_LOG_LEVEL=2) unless that variable is already set.
 */
export function loadTensorflowBuild(env: NodeJS.ProcessEnv = process.env): string {
  const dirs = tensorflowBuildDirs(env);
  const dir = dirs.find((d) => readTensorflowBuild(d) !== undefined);
  if (!dir) throw new Error(`none in ${dirs.join(' or ')} (build one with \`npx nextclick setup tensorflow\`, or --gpu)`);
  const manifest = readTensorflowBuild(dir)!;
  const describe = `libtensorflow ${manifest.tensorflowVersion} (${manifest.flavour}) via nextclick's build of ${manifest.tfjsNodePackage} ${manifest.tfjsNodeVersion} in ${dir}`;
  if (loadedFrom !== undefined) {
    if (loadedFrom !== dir) throw new Error(`a TensorFlow build from ${loadedFrom} is already loaded in this process; ${dir} cannot be loaded next to it`);
    return describe;
  }
  const ownRequire = createRequire(import.meta.url);
  const core = ownRequire('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
  (globalThis as Record<symbol, unknown>)[tfjsCoreSymbol] = core;
  process.env['TF_CPP_MIN_LOG_LEVEL'] ??= '2';
  const buildRequire = createRequire(join(dir, TensorflowBuildLayout.tfjsNode, 'package.json'));
  const binding = buildRequire(`./${TensorflowBuildLayout.binding}`) as unknown;
  const { NodeJSKernelBackend } = buildRequire('./dist/nodejs_kernel_backend.js') as {
    NodeJSKernelBackend: new (binding: unknown, packageName: string) => import('@tensorflow/tfjs-core').KernelBackend;
  };
  buildRequire('./dist/register_all_kernels.js');
  if (!core.findBackendFactory('tensorflow')) {
    core.registerBackend('tensorflow', () => new NodeJSKernelBackend(binding, manifest.tfjsNodePackage), 3);
  }
  loadedFrom = dir;
  return describe;
}
