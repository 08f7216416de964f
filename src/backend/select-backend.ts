import { NextclickError } from '../errors.js';
import { noopLogger, TypedEmitter, type Logger } from '../instrumentation/typed-emitter.js';
import { loadTensorflowBuild } from './tensorflow-build.js';
import { tf } from './tf.js';
import { installWasmRowGather } from './wasm-rows.js';
import { describeAdapter, installWebGpu, probeWebGpuAdapter, vulkanLoaderPresent, webGpuIcdOverride } from './webgpu.js';

/** TensorFlow.js backends nextclick knows, fastest first. */
export const BackendNames = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BackendNames)[number];

/** One try at loading a backend. */
export interface BackendAttempt {
  readonly backend: BackendName;
  readonly ok: boolean;
  /** Why it failed (the load error's message), when it did. */
  readonly error?: string;
  readonly ms: number;
}

/** The outcome of {@link selectBackend}. */
export interface BackendSelection {
  readonly backend: BackendName;
  /** `option`, `env` (NEXTCLICK_BACKEND) or `auto`. */
  readonly source: 'option' | 'env' | 'auto';
  readonly attempts: readonly BackendAttempt[];
  /** What the backend runs on, when it names it (webgpu: Dawn's adapter; tensorflow: which package or build). */
  readonly adapter?: string;
}

export interface BackendEvents {
  /** Emitted once per selection with the chosen backend and every failed attempt. */
  selected: BackendSelection;
}

/** Process-wide emitter for backend selection (subscribe before the first model loads). */
export const backendEvents = new TypedEmitter<BackendEvents>();

/** Options for {@link selectBackend}. */
export interface BackendOptions {
  /**
   * Backend to use. `auto` tries tensorflow, webgpu, wasm, cpu in that order. tensorflow loads by two routes, in
   * order: the official @tensorflow/tfjs-node-gpu / tfjs-node packages (only where their install script could
   * download libtensorflow 2.9.1), then nextclick's build from `nextclick setup tensorflow [--gpu]` (first when
   * NEXTCLICK_TENSORFLOW_DIR names one); webgpu is the route to a GPU without either.
   * In `auto`, webgpu is taken only on a hardware adapter (a software one such as lavapipe is slower than wasm),
   * naming it (option or NEXTCLICK_BACKEND=webgpu) accepts any adapter.
   * A named backend that fails to load falls back to the auto order (with a warning) unless `strict`.
   * @defaultValue the NEXTCLICK_BACKEND environment variable, else 'auto'
   */
  readonly backend?: BackendName | 'auto';
  /** Throw BACKEND_UNAVAILABLE instead of falling back when the named backend cannot load. @defaultValue false */
  readonly strict?: boolean;
  /** Where the choice and failures are logged. @defaultValue noopLogger */
  readonly logger?: Logger;
  /** Re-select even if a backend was already chosen in this process. @defaultValue false */
  readonly force?: boolean;
}

/** What a loader is told: whether its backend was named (option/env) rather than reached in the auto order. */
interface LoaderContext {
  readonly requested: boolean;
}
/** Loads and activates a backend; may return a description of the device it runs on (logged). */
type Loader = (context: LoaderContext) => Promise<string | void>;

// Package names in variables so bundlers and tsc do not require the optional native packages to exist.
const officialTensorflowPackages = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/**
 * Route 1 to the `tensorflow` backend: the official packages. Present only where their install script could
 * download libtensorflow 2.9.1 (storage.googleapis.com; the -gpu one then needs CUDA 11.2 + cuDNN 8.1).
 */
async function loadOfficialTensorflow(pkg: string): Promise<string> {
  try {
    await import(pkg);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new Error('not installed (its install script downloads libtensorflow 2.9.1 from storage.googleapis.com)');
    throw err;
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error("loaded but setBackend('tensorflow') returned false");
  return `official ${pkg}`;
}

/**
 * Route 2: nextclick's own build (`nextclick setup tensorflow [--gpu]`: tfjs-node's binding compiled against the
 * TensorFlow 2.21 wheel from PyPI; CPU, or CUDA 12 with --gpu). Tried first when NEXTCLICK_TENSORFLOW_DIR names one.
 */
async function loadTensorflowBuildRoute(): Promise<string> {
  const description = loadTensorflowBuild();
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`setBackend('tensorflow') returned false for ${description}`);
  return description;
}

const loaders: Record<BackendName, Loader> = {
  async tensorflow() {
    const routes: [string, () => Promise<string>][] = officialTensorflowPackages.map((pkg) => [pkg, () => loadOfficialTensorflow(pkg)]);
    const build: [string, () => Promise<string>] = ['nextclick build', loadTensorflowBuildRoute];
    if (process.env['NEXTCLICK_TENSORFLOW_DIR']?.trim()) routes.unshift(build);
    else routes.push(build);
    const errors: string[] = [];
    for (const [name, load] of routes) {
      try {
        return await load();
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    throw new Error(errors.join('; '));
  },
  async webgpu({ requested }) {
    // Auto mode on a machine without Vulkan: skip before loading Dawn (it would warn on stderr).
    if (!requested && !vulkanLoaderPresent()) throw new Error('no Vulkan loader (libvulkan.so.1) on this machine');
    const adapter = await probeWebGpuAdapter();
    const override = webGpuIcdOverride();
    const icd = override ? ` through ${override} (headless NVIDIA: VK_DRIVER_FILES=${process.env['VK_DRIVER_FILES'] ?? ''})` : '';
    if (!adapter) throw new Error(`no WebGPU adapter${icd} (Dawn found no Vulkan device: check the Vulkan loader libvulkan.so.1 and VK_DRIVER_FILES)`);
    const name = describeAdapter(adapter) + icd;
    if (adapter.isFallbackAdapter && !requested) throw new Error(`only a software adapter (${name}); name webgpu explicitly to use it`);
    await installWebGpu();
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error(`setBackend('webgpu') returned false on ${name}`);
    return name;
  },
  async wasm() {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error("setBackend('wasm') returned false (wasm binary could not be instantiated)");
    installWasmRowGather();
  },
  async cpu() {
    if (!(await tf.setBackend('cpu'))) throw new Error("setBackend('cpu') returned false");
  },
};

let current: Promise<BackendSelection> | undefined;

/** Test hook: replace a loader (e.g. to simulate a failing native load). Returns a restore function. */
export function overrideBackendLoader(name: BackendName, loader: Loader): () => void {
  const old = loaders[name];
  loaders[name] = loader;
  return () => { loaders[name] = old; };
}

/**
 * Chooses and initialises the TensorFlow.js backend once per process (later calls return the same choice
 * unless `force`). Logs the chosen backend and, at warn level, every backend that failed to load and why.
 */
export function selectBackend(options: BackendOptions = {}): Promise<BackendSelection> {
  if (current && !options.force) return current;
  current = doSelect(options);
  current.catch(() => { current = undefined; });
  return current;
}

/** The selection made so far, if any. */
export function selectedBackend(): Promise<BackendSelection> | undefined {
  return current;
}

async function doSelect(options: BackendOptions): Promise<BackendSelection> {
  const logger = options.logger ?? noopLogger;
  const env = process.env['NEXTCLICK_BACKEND']?.trim();
  const requested = options.backend ?? (env ? (env as BackendName | 'auto') : 'auto');
  const source: BackendSelection['source'] = options.backend ? 'option' : env ? 'env' : 'auto';
  if (requested !== 'auto' && !(BackendNames as readonly string[]).includes(requested)) {
    throw new NextclickError('INVALID_OPTION', `unknown backend "${requested}" (from ${source}); use one of auto, ${BackendNames.join(', ')}`);
  }
  const order: BackendName[] = requested === 'auto' ? [...BackendNames] : [requested, ...BackendNames.filter((b) => b !== requested)];
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    const start = performance.now();
    try {
      const adapter = await loaders[name]({ requested: name === requested });
      await tf.ready();
      attempts.push({ backend: name, ok: true, ms: performance.now() - start });
      const selection: BackendSelection = { backend: name, source, attempts, ...(adapter ? { adapter } : {}) };
      logger.info({ backend: name, source, failed: attempts.filter((a) => !a.ok), ...(adapter ? { adapter } : {}) }, `TensorFlow.js backend: ${name}${adapter ? ` on ${adapter}` : ''}`);
      backendEvents.emit('selected', selection);
      return selection;
    } catch (err) {
      const message = (err as Error).message;
      attempts.push({ backend: name, ok: false, error: message, ms: performance.now() - start });
      logger.warn({ backend: name, error: message }, `TensorFlow.js backend ${name} failed to load`);
      if (options.strict && name === requested) {
        throw new NextclickError('BACKEND_UNAVAILABLE', `backend "${name}" could not be loaded: ${message}. Install its package or choose another with NEXTCLICK_BACKEND=webgpu|wasm|cpu`, { cause: err });
      }
    }
  }
  throw new NextclickError('BACKEND_UNAVAILABLE', `no TensorFlow.js backend could be loaded: ${attempts.map((a) => `${a.backend}: ${a.error}`).join('; ')}`);
}
