import { readFile, rename, writeFile } from 'node:fs/promises';
import { ModelFormatError, NextclickError } from '../errors.js';
import { safeJoin } from '../persistence/model-dir.js';
import { tf } from './tf.js';

/** File names inside a model directory. */
export const WEIGHTS_MANIFEST_FILE = 'weights.json';
export const WEIGHTS_SHARD_FILE = 'weights.bin';

interface WeightsManifestFile {
  readonly format: 'tfjs-weights';
  /** TensorFlow.js weights manifest: groups of shard paths and weight specs. */
  readonly weightsManifest: tf.io.WeightsManifestConfig;
}

/**
 * A TensorFlow.js IOHandler that stores weights in the TF.js weights format — a weights manifest
 * (`weights.json`, the `weightsManifest` of a TF.js model.json) and one binary shard — using plain node:fs,
 * so saving and loading work on the wasm and cpu backends without tfjs-node. Shard paths read from the
 * manifest are resolved with safeJoin, so a tampered manifest cannot read outside the directory.
 */
export function fileIOHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (!artifacts.weightSpecs || artifacts.weightData === undefined) throw new NextclickError('INTERNAL', 'nothing to save: no weights');
      const data = tf.io.CompositeArrayBuffer.join(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
      const manifest: WeightsManifestFile = {
        format: 'tfjs-weights',
        weightsManifest: [{ paths: [WEIGHTS_SHARD_FILE], weights: artifacts.weightSpecs }],
      };
      await atomicWrite(safeJoin(dir, WEIGHTS_SHARD_FILE), new Uint8Array(data));
      await atomicWrite(safeJoin(dir, WEIGHTS_MANIFEST_FILE), JSON.stringify(manifest));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightSpecsBytes: JSON.stringify(artifacts.weightSpecs).length, weightDataBytes: data.byteLength } };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const manifestPath = safeJoin(dir, WEIGHTS_MANIFEST_FILE);
      let parsed: WeightsManifestFile;
      try {
        parsed = JSON.parse(await readFile(manifestPath, 'utf8')) as WeightsManifestFile;
      } catch (err) {
        throw new ModelFormatError(`cannot read weights manifest ${manifestPath}: ${(err as Error).message}`, { cause: err });
      }
      if (parsed.format !== 'tfjs-weights' || !Array.isArray(parsed.weightsManifest)) throw new ModelFormatError(`${manifestPath} is not a TensorFlow.js weights manifest`);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of parsed.weightsManifest) {
        if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) throw new ModelFormatError(`${manifestPath}: malformed weights group`);
        specs.push(...group.weights);
        for (const p of group.paths) {
          const full = safeJoin(dir, p);
          try {
            buffers.push(await readFile(full));
          } catch (err) {
            throw new ModelFormatError(`missing weights shard ${full}`, { cause: err });
          }
        }
      }
      const total = buffers.reduce((n, b) => n + b.byteLength, 0);
      // A short (truncated) or long shard would otherwise surface as a raw TF.js shape error without a file name.
      const expected = expectedWeightBytes(specs);
      if (expected !== undefined && expected !== total) {
        const files = parsed.weightsManifest.flatMap((g) => g.paths.map((p) => safeJoin(dir, p))).join(', ');
        throw new ModelFormatError(`${files} holds ${total} bytes but ${manifestPath} describes ${expected}: the weights are ${total < expected ? 'truncated' : 'not those of this manifest'}; restore the model directory or train it again`, { context: { file: files } });
      }
      const joined = new Uint8Array(total);
      let at = 0;
      for (const b of buffers) { joined.set(b, at); at += b.byteLength; }
      return { weightSpecs: specs, weightData: joined.buffer };
    },
  };
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Bytes the weight specs describe, or undefined when they cannot be known in advance (string tensors). */
export function expectedWeightBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    const dtype = spec.quantization?.dtype ?? spec.dtype;
    const bytes = BYTES_PER_ELEMENT[dtype];
    if (bytes === undefined || !Array.isArray(spec.shape)) return undefined;
    total += spec.shape.reduce((n, d) => n * d, 1) * bytes;
  }
  return total;
}

/** An in-memory IOHandler (tests, checkpoints kept in RAM). */
export function memoryIOHandler(): tf.io.IOHandler & { artifacts?: tf.io.ModelArtifacts } {
  const h: tf.io.IOHandler & { artifacts?: tf.io.ModelArtifacts } = {
    async save(a) { h.artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; },
    async load() {
      if (!h.artifacts) throw new ModelFormatError('nothing saved yet');
      return h.artifacts;
    },
  };
  return h;
}

/** Encodes named Float32Arrays to the TF.js weights format and saves them through `handler`. */
export async function saveWeights(handler: tf.io.IOHandler, weights: ReadonlyArray<{ name: string; shape: number[]; values: Float32Array }>): Promise<void> {
  const named = weights.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape, 'float32') }));
  try {
    const { data, specs } = await tf.io.encodeWeights(named);
    await handler.save!({ weightSpecs: specs, weightData: data });
  } finally {
    for (const n of named) n.tensor.dispose();
  }
}

/** Loads weights saved by {@link saveWeights} as Float32Arrays with their shapes. */
export async function loadWeights(handler: tf.io.IOHandler): Promise<Map<string, { shape: number[]; values: Float32Array }>> {
  const a = await handler.load!();
  if (!a.weightSpecs || a.weightData === undefined) throw new ModelFormatError('weights artifacts have no weights');
  const decoded = tf.io.decodeWeights(a.weightData, a.weightSpecs);
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, t] of Object.entries(decoded)) {
    // await data(), not dataSync(): decoded tensors live on the active backend, and webgpu cannot read them synchronously.
    try {
      out.set(name, { shape: t.shape.slice(), values: new Float32Array((await t.data()) as Float32Array) });
    } finally {
      t.dispose();
    }
  }
  return out;
}

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
