// WebGPU in Node: TensorFlow.js's WebGPU backend on Dawn (the optional `webgpu` npm package, a prebuilt
// dawn.node that drives Vulkan: a GPU vendor's driver, or Mesa's software lavapipe). In a browser
// `navigator.gpu` already exists and the package is not needed.
// Node caveat: dataSync()/arraySync() on WebGPU tensors throw ("OffscreenCanvas is not defined");
// code that may run on this backend must read with `await t.data()` / `await t.array()`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Where NVIDIA's driver (and the NVIDIA container toolkit) put the Vulkan ICD manifest. */
const NVIDIA_ICD_MANIFESTS = ['/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json', '/etc/vulkan/icd.d/nvidia_icd.json', '/usr/share/vulkan/icd.d/nvidia_icd.json'];
const NVIDIA_LIBRARY_DIRS = ['/usr/local/nvidia/lib64', '/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64'];

/** What {@link headlessNvidiaIcd} looks at; the defaults read this process and machine. */
export interface IcdProbe {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly platform?: string;
  readonly exists?: (path: string) => boolean;
  readonly readText?: (path: string) => string | undefined;
}

/**
 * On a Linux machine without a display whose only NVIDIA Vulkan ICD manifest names the GLX library
 * (`libGLX_nvidia.so.0`), the library path of the same driver's EGL library and the manifest's API version;
 * undefined anywhere else, or when the user chose the ICDs (VK_DRIVER_FILES / VK_ICD_FILENAMES).
 * Why: without a display the GLX library cannot create a Vulkan instance ("Could not get 'vkCreateInstance'
 * via 'vk_icdGetInstanceProcAddr'"), so Dawn finds no adapter; the EGL library drives the GPU headless
 * (measured on an H100 container, driver 580: bench/gpu.md).
 */
export function headlessNvidiaIcd(probe: IcdProbe = {}): { libraryPath: string; apiVersion: string } | undefined {
  const env = probe.env ?? process.env;
  const exists = probe.exists ?? existsSync;
  const readText = probe.readText ?? ((p: string) => { try { return readFileSync(p, 'utf8'); } catch { return undefined; } });
  if ((probe.platform ?? process.platform) !== 'linux') return undefined;
  if (env['VK_DRIVER_FILES'] || env['VK_ICD_FILENAMES'] || env['DISPLAY'] || env['WAYLAND_DISPLAY']) return undefined;
  const manifest = NVIDIA_ICD_MANIFESTS.map(readText).find((t) => t !== undefined);
  if (!manifest || !/libGLX_nvidia/.test(manifest)) return undefined;
  const dirs = [...(env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean), ...NVIDIA_LIBRARY_DIRS];
  const dir = dirs.find((d) => exists(join(d, 'libEGL_nvidia.so.0')));
  if (!dir) return undefined;
  return { libraryPath: join(dir, 'libEGL_nvidia.so.0'), apiVersion: /"api_version"\s*:\s*"([^"]+)"/.exec(manifest)?.[1] ?? '1.3.0' };
}

let icdOverride: string | undefined;

/** The Vulkan ICD library this process was pointed at by {@link installWebGpu} (headless NVIDIA), if any. */
export function webGpuIcdOverride(): string | undefined {
  return icdOverride;
}

/**
 * Makes `navigator.gpu` available (from Dawn in Node) and returns it. Must run before
 * `@tensorflow/tfjs-backend-webgpu` is imported: the backend registers itself only if `navigator.gpu` exists.
 */
export function installWebGpu(): Promise<GpuLike> {
  installed ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: GpuLike } };
    if (g.navigator?.gpu) return g.navigator.gpu;
    const mod = (await import(dawnPackage)) as { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
    // Headless NVIDIA: point the Vulkan loader at the EGL library before Dawn creates its instance.
    const icd = headlessNvidiaIcd();
    if (icd) {
      const file = join(tmpdir(), `nextclick-nvidia-egl-icd-${process.pid}.json`);
      writeFileSync(file, JSON.stringify({ file_format_version: '1.0.1', ICD: { library_path: icd.libraryPath, api_version: icd.apiVersion } }));
      process.env['VK_DRIVER_FILES'] = file;
      icdOverride = icd.libraryPath;
    }
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
