#!/usr/bin/env node
// Bundles tfjs-core's op gradients (dist/register_all_gradients.js, an ESM tree with extension-less imports that
// Node cannot load) into one ESM file that models/nn/gradients.ts imports. The bundle carries its own copies of
// the ops the gradients use; they dispatch through the one global TF.js engine and register into the one global
// gradient registry, as the @tensorflow/tfjs union package does. Run by `npm run build`; the output is not
// committed (models/nn/tf-gradients.generated.js, also copied to dist/).
import { mkdirSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const entry = join(dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'register_all_gradients.js');
const out = join(root, 'models', 'nn', 'tf-gradients.generated.js');
await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile: out, logLevel: 'error', legalComments: 'none' });
const distOut = join(root, 'dist', 'models', 'nn', 'tf-gradients.generated.js');
mkdirSync(dirname(distOut), { recursive: true });
copyFileSync(out, distOut);
