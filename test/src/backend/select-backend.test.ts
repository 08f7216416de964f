import { afterEach, describe, expect, it } from 'vitest';
import { backendEvents, overrideBackendLoader, selectBackend, type BackendSelection } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import type { Logger } from '../../../src/instrumentation/typed-emitter.js';

function recordingLogger() {
  const records: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => { records.push({ level, obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) }); };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, records };
}

describe('selectBackend', () => {
  const restores: (() => void)[] = [];
  afterEach(() => { restores.splice(0).forEach((r) => r()); delete process.env['NEXTCLICK_BACKEND']; });

  it('falls back from a failing native backend to wasm, logging and emitting the failure', async () => {
    restores.push(overrideBackendLoader('tensorflow', async () => { throw new Error('libtensorflow.so: cannot open shared object file'); }));
    const { logger, records } = recordingLogger();
    const emitted: BackendSelection[] = [];
    const off = backendEvents.on('selected', (s) => emitted.push(s));
    const sel = await selectBackend({ force: true, logger, backend: 'auto' });
    off();
    expect(sel.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(sel.attempts[0]).toMatchObject({ backend: 'tensorflow', ok: false });
    expect(sel.attempts[0]!.error).toContain('libtensorflow.so');
    const warn = records.find((r) => r.level === 'warn');
    expect(warn?.obj).toMatchObject({ backend: 'tensorflow' });
    expect(String(warn?.obj['error'])).toContain('libtensorflow.so');
    expect(records.find((r) => r.level === 'info')?.obj).toMatchObject({ backend: 'wasm' });
    expect(emitted).toHaveLength(1);
    expect(emitted[0]!.backend).toBe('wasm');
  });

  it('reports the real native load error when tfjs-node is not installed', async () => {
    const { logger, records } = recordingLogger();
    const sel = await selectBackend({ force: true, logger });
    // Here neither tfjs-node-gpu nor tfjs-node is installed; the failure must be visible, not swallowed.
    if (sel.backend !== 'tensorflow') {
      expect(sel.attempts[0]!.error).toMatch(/tfjs-node-gpu/);
      expect(records.some((r) => r.level === 'warn' && r.obj['backend'] === 'tensorflow')).toBe(true);
    }
  });

  it('honours NEXTCLICK_BACKEND and the option (option wins)', async () => {
    process.env['NEXTCLICK_BACKEND'] = 'cpu';
    const env = await selectBackend({ force: true });
    expect(env).toMatchObject({ backend: 'cpu', source: 'env' });
    const opt = await selectBackend({ force: true, backend: 'wasm' });
    expect(opt).toMatchObject({ backend: 'wasm', source: 'option' });
  });

  it('strict mode throws BACKEND_UNAVAILABLE; unknown names are rejected', async () => {
    restores.push(overrideBackendLoader('wasm', async () => { throw new Error('no wasm today'); }));
    await expect(selectBackend({ force: true, backend: 'wasm', strict: true })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    await expect(selectBackend({ force: true, backend: 'webgl' as never })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
