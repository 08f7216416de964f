// WebGPU in Node: TensorFlow.js's WebGPU backend on Dawn (the optional `webgpu` npm package, a prebuilt
// dawn.node that drives Vulkan: a GPU vendor's driver, or Mesa's software lavapipe). In a browser
// `navigator.gpu` already exists and the package is not needed.
// Node caveat: dataSync()/arraySync() on WebGPU tensors throw ("OffscreenCanvas is not defined");
// code that may run on this backend must read with `await t.data()` / `await t.array()`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What Dawn reports about the adapter (GPUAdapterInfo), as plain data. */
export interface WebGpuAdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** True for software/CPU adapters (lavapipe, SwiftShader): no speed-up over the CPU backends. */
  readonly isFallbackAdapter: boolean;
}

/** The minimal slice of the WebGPU API used here (the project does not depend on @webgpu/types). */
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  readonly info?: Partial<Record<keyof WebGpuAdapterDescription, unknown>>;
  readonly isFallbackAdapter?: boolean;
}

// In a variable so tsc and bundlers do not require the optional native package.
const dawnPackage = 'webgpu';
let installed: Promise<GpuLike> | undefined;

/**
 * Makes `navigator.gpu` available (from Dawn in Node) and returns it. Must run before
 * `@tensorflow/tfjs-backend-webgpu` is imported: the backend registers itself only if `navigator.gpu` exists.
 */
export function installWebGpu(): Promise<GpuLike> {
  installed ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: GpuLike } };
    if (g.navigator?.gpu) return g.navigator.gpu;
    const mod = (await import(dawnPackage)) as { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
    // Dawn's classes (GPUBufferUsage, GPUShaderStage, ...) are read as globals by the TF.js backend.
    for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    const gpu = mod.create([]);
    // Node 20 has no navigator; Node 21+ has a read-only getter, hence defineProperty.
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    return gpu;
  })();
  installed.catch(() => { installed = undefined; });
  return installed;
}

/**
 * Whether a Vulkan loader (libvulkan.so.1) can be found, without loading Dawn (which prints a warning to
 * stderr when it cannot). Checks LD_LIBRARY_PATH, the libraries already loaded and the dynamic linker's cache. Always true off Linux
 * (Dawn uses Metal / D3D12 there) and in browsers.
 */
export function vulkanLoaderPresent(): boolean {
  if (typeof process === 'undefined' || process.platform !== 'linux') return true;
  const dirs = (process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean);
  if (dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')))) return true;
  try {
    // Already loaded into this process (e.g. preloaded by absolute path).
    if (readFileSync('/proc/self/maps', 'utf8').includes('libvulkan.so.1')) return true;
  } catch { /* no procfs */ }
  try {
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib'].some((d) => existsSync(join(d, 'libvulkan.so.1')));
  }
}

/** The adapter the TF.js backend would get (high-performance preference), or undefined when there is none. */
export async function probeWebGpuAdapter(): Promise<WebGpuAdapterDescription | undefined> {
  const gpu = await installWebGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return undefined;
  const info = adapter.info ?? {};
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    vendor: str(info.vendor),
    architecture: str(info.architecture),
    device: str(info.device),
    description: str(info.description),
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
}

/** One line naming the adapter, for logs. */
export function describeAdapter(a: WebGpuAdapterDescription): string {
  const name = a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ') || 'unnamed adapter';
  return a.isFallbackAdapter ? `${name} (software fallback)` : name;
}
