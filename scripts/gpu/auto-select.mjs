// Which backend does the library pick by itself (selectBackend in `auto` mode, no NEXTCLICK_BACKEND, no
// VK_DRIVER_FILES)? On a GPU machine it should be webgpu on the hardware adapter, headless NVIDIA included.
// Writes JSON to --out; exit 0 = webgpu on a hardware adapter, 5 = another backend was picked.
// usage: env -u VK_DRIVER_FILES node scripts/gpu/auto-select.mjs [--out auto-select.json]
import { writeFileSync } from 'node:fs';
import { selectBackend } from '../../dist/src/backend/select-backend.js';

const outIdx = process.argv.indexOf('--out');
const out = outIdx > 0 ? process.argv[outIdx + 1] : undefined;
const lines = [];
const logger = {
  info: (obj, msg) => lines.push({ level: 'info', msg, ...obj }),
  warn: (obj, msg) => lines.push({ level: 'warn', msg, ...obj }),
  error: (obj, msg) => lines.push({ level: 'error', msg, ...obj }),
  debug: () => {},
};
delete process.env.NEXTCLICK_BACKEND;
const sel = await selectBackend({ logger });
const report = { backend: sel.backend, adapter: sel.adapter ?? null, attempts: sel.attempts, VK_DRIVER_FILES: process.env.VK_DRIVER_FILES ?? null, log: lines };
if (out) writeFileSync(out, JSON.stringify(report, null, 2));
for (const l of lines) console.error(`[auto-select] ${l.level}: ${l.msg}`);
process.exit(sel.backend === 'webgpu' ? 0 : 5);
