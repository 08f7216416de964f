#!/usr/bin/env node
// Post-build step of `npm run build`: keeps @tensorflow/tfjs-core's declarations out of the published types.
//
// tfjs-core's .d.ts files reference @webgpu/types (which clash with the WebGPU declarations TypeScript 7's DOM lib
// now has: ~180 duplicate-identifier errors) and the global `Long` of @types/long (absent under TypeScript 7, whose
// `types` default is []). nextclick's declarations reach tfjs-core through one module, src/backend/tf.ts, and name
// only a few tensor types in internal signatures; this step replaces that module's emitted declaration with opaque
// stand-ins for those types, then checks that no other declaration imports TensorFlow.js or WebGPU types.
// test/package/consumer.test.ts compiles a strict consumer against the packed result on TypeScript 7 and 5.9.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

const dist = join(import.meta.dirname, '..', 'dist');
const tfDeclaration = join(dist, 'src/backend/tf.d.ts');

await writeFile(tfDeclaration, `/**
 * Public stand-in for the TensorFlow.js namespace (written by scripts/public-types.mjs; the implementation is
 * src/backend/tf.ts). Internal signatures name these tensor types; they are declared here, opaque, so that
 * @tensorflow/tfjs-core's declarations (and with them @webgpu/types and @types/long) stay out of a consumer's
 * program. Import @tensorflow/tfjs-core yourself for the full types.
 */
export declare namespace tf {
    interface Tensor {
        readonly shape: number[];
        readonly dtype: string;
        readonly size: number;
        dispose(): void;
    }
    interface Tensor1D extends Tensor {
    }
    interface Tensor2D extends Tensor {
    }
    interface Tensor3D extends Tensor {
    }
    interface Tensor4D extends Tensor {
    }
    interface Scalar extends Tensor {
    }
    interface Variable extends Tensor {
    }
    namespace io {
        interface IOHandler {
        }
        interface ModelArtifacts {
        }
        interface WeightsManifestEntry {
        }
    }
}
`);

// Every tf.X a declaration names must be one of the stand-ins above.
const declared = new Set(['tf.Tensor', 'tf.Tensor1D', 'tf.Tensor2D', 'tf.Tensor3D', 'tf.Tensor4D', 'tf.Scalar', 'tf.Variable', 'tf.io.IOHandler', 'tf.io.ModelArtifacts', 'tf.io.WeightsManifestEntry']);
const problems = [];
for (const entry of await readdir(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const name = relative(dist, file);
  const text = await readFile(file, 'utf8');
  if (/from ['"](@tensorflow\/|@webgpu\/|webgpu['"])|reference types=['"]@webgpu/.test(text)) problems.push(`${name} imports TensorFlow.js or WebGPU types`);
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const [use] of code.matchAll(/(?<![\w/.])tf\.[A-Za-z0-9_.]+[A-Za-z0-9_]/g)) {
    if (!declared.has(use)) problems.push(`${name} names ${use}, which dist/src/backend/tf.d.ts does not declare`);
  }
}
if (problems.length > 0) {
  process.stderr.write(`public-types: the published declarations would leak TensorFlow.js types:\n  ${problems.join('\n  ')}\nAdd the type to the stand-ins in scripts/public-types.mjs or keep it out of exported signatures.\n`);
  process.exit(1);
}
