#!/usr/bin/env node
// CI's entry to `nextclick setup tensorflow` (same code, from the build in dist/): builds the native
// tensorflow backend into .cache/tensorflow from PyPI + npm; a no-op when it is already there.
// Usage: node scripts/tensorflow/setup.mjs [--gpu] [--force] [--dir DIR] [--json]
import { existsSync } from 'node:fs';

const main = new URL('../../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('scripts/tensorflow/setup.mjs: dist/ is missing; run `npm run build` (npm ci does) first\n');
  process.exit(1);
}
const { main: run } = await import(main.href);
process.exitCode = await run(['setup', 'tensorflow', ...process.argv.slice(2)]);
