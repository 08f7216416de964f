import { describe, expect, it } from 'vitest';
import { headlessNvidiaIcd, type IcdProbe } from '../../../src/backend/webgpu.js';

const GLX_MANIFEST = '{ "file_format_version" : "1.0.1", "ICD": { "library_path": "libGLX_nvidia.so.0", "api_version" : "1.4.312" } }';

/** A fake machine: the files that exist and the text of the ones that are read. */
function machine(files: Record<string, string>, env: Record<string, string> = {}, platform = 'linux'): IcdProbe {
  return { env, platform, exists: (p) => p in files, readText: (p) => files[p] };
}

const headlessH100 = {
  '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json': GLX_MANIFEST,
  '/usr/local/nvidia/lib64/libEGL_nvidia.so.0': '',
};

describe('headlessNvidiaIcd', () => {
  it("points a headless NVIDIA machine (GLX manifest, no display) at the driver's EGL library", () => {
    expect(headlessNvidiaIcd(machine(headlessH100))).toEqual({ libraryPath: '/usr/local/nvidia/lib64/libEGL_nvidia.so.0', apiVersion: '1.4.312' });
  });

  it('finds the EGL library on LD_LIBRARY_PATH first', () => {
    const files = { ...headlessH100, '/opt/drv/libEGL_nvidia.so.0': '' };
    expect(headlessNvidiaIcd(machine(files, { LD_LIBRARY_PATH: '/opt/drv' }))?.libraryPath).toBe('/opt/drv/libEGL_nvidia.so.0');
  });

  it.each([
    ['the user chose the ICDs', machine(headlessH100, { VK_DRIVER_FILES: '/x.json' })],
    ['the user chose the ICDs (old variable)', machine(headlessH100, { VK_ICD_FILENAMES: '/x.json' })],
    ['there is a display', machine(headlessH100, { DISPLAY: ':0' })],
    ['not Linux', machine(headlessH100, {}, 'darwin')],
    ['no NVIDIA manifest', machine({ '/usr/local/nvidia/lib64/libEGL_nvidia.so.0': '' })],
    ['the manifest already names EGL', machine({ ...headlessH100, '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json': GLX_MANIFEST.replace('GLX', 'EGL') })],
    ['no EGL library', machine({ '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json': GLX_MANIFEST })],
  ])('changes nothing when %s', (_, probe) => {
    expect(headlessNvidiaIcd(probe)).toBeUndefined();
  });
});
