// Shared by the WebGPU test files: configures Dawn's Vulkan for this test process, and says whether the suite
// must run. `npm test` runs the WebGPU tests when scripts/gpu/setup-lavapipe.sh has been run (its env file
// exists) or VK_DRIVER_FILES is set; NEXTCLICK_REQUIRE_WEBGPU=1 (CI) turns the skip into a failure.
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import type { WebGpuAdapterDescription } from '../../../src/backend/webgpu.js';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const envFile = fileURLToPath(new URL('../../../.cache/gpu/lavapipe.env', import.meta.url));
/** glibc's RTLD_NODELETE (Node does not export it): the library stays loaded after Node's failed addon check. */
const RTLD_NODELETE = 0x1000;

export const requireWebGpu = process.env['NEXTCLICK_REQUIRE_WEBGPU'] === '1';

/**
 * Applies the lavapipe environment written by scripts/gpu/setup-lavapipe.sh unless a driver is already set.
 * LD_LIBRARY_PATH only counts at process start, so the private Vulkan loader (and the newer libdrm lavapipe
 * needs) are loaded now by absolute path; Dawn's later dlopen("libvulkan.so.1") finds them by soname.
 */
export function configureVulkan(): { configured: boolean; why: string } {
  if (process.env['VK_DRIVER_FILES'] || process.env['VK_ICD_FILENAMES']) return { configured: true, why: 'VK_DRIVER_FILES is set' };
  if (!existsSync(envFile)) {
    return { configured: false, why: `no Vulkan driver: run \`bash scripts/gpu/setup-lavapipe.sh\` (Mesa lavapipe from Debian bookworm-backports into .cache/gpu) or set VK_DRIVER_FILES` };
  }
  const env = new Map<string, string>();
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1));
  }
  process.env['VK_DRIVER_FILES'] = env.get('VK_DRIVER_FILES') ?? '';
  for (const dir of (env.get('LD_LIBRARY_PATH') ?? '').split(':').filter(Boolean)) {
    for (const lib of ['libdrm.so.2', 'libvulkan.so.1']) {
      if (!existsSync(`${dir}/${lib}`)) continue;
      try {
        process.dlopen({ exports: {} }, `${dir}/${lib}`, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE);
      } catch {
        // "Module did not self-register": expected, it is not a Node addon; it stays loaded (RTLD_NODELETE).
      }
    }
  }
  return { configured: true, why: `lavapipe from ${envFile}` };
}

/**
 * Whether the WebGPU tests of `suite` can run here: the adapter Dawn offers, or why not (no Vulkan driver, no
 * adapter, Dawn failed to load). When they cannot, it warns, or with {@link requireWebGpu} registers a failing
 * test so CI cannot pass with the suite skipped.
 */
export async function webGpuAvailability(suite: string): Promise<{ skipReason?: string; adapter?: WebGpuAdapterDescription }> {
  const vulkan = configureVulkan();
  let skipReason: string | undefined = vulkan.configured ? undefined : vulkan.why;
  let adapter: WebGpuAdapterDescription | undefined;
  if (!skipReason) {
    try {
      const { probeWebGpuAdapter } = await import('../../../src/backend/webgpu.js');
      adapter = await probeWebGpuAdapter();
      if (!adapter) skipReason = `Dawn found no Vulkan adapter (${vulkan.why}); re-run scripts/gpu/setup-lavapipe.sh`;
    } catch (err) {
      skipReason = `the webgpu package (Dawn) could not load: ${(err as Error).message}`;
    }
  }
  if (skipReason && !requireWebGpu) console.warn(`\n*** ${suite} WebGPU tests SKIPPED: ${skipReason} (NEXTCLICK_REQUIRE_WEBGPU=1 makes this a failure) ***\n`);
  if (skipReason && requireWebGpu) {
    const why = skipReason;
    describe(`${suite} on webgpu`, () => {
      it('has a Vulkan adapter (NEXTCLICK_REQUIRE_WEBGPU=1)', () => {
        throw new Error(`WebGPU required but unavailable: ${why}`);
      });
    });
  }
  return { ...(skipReason ? { skipReason } : {}), ...(adapter ? { adapter } : {}) };
}
