// Averages the weights of checkpoints of one training run (same config and vocabulary), e.g. its last epochs:
//   node bench/average-checkpoints.mjs OUT_DIR DIR1 DIR2 [...]
// OUT_DIR gets DIR1's model.json, vocabulary.json and weights.json and the element-wise mean of weights.bin;
// test it with `node bench/transformer-accuracy.mjs eval --model OUT_DIR`.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out, ...dirs] = process.argv.slice(2);
if (!out || dirs.length < 2) {
  console.error('usage: average-checkpoints.mjs OUT_DIR DIR1 DIR2 [...]');
  process.exit(2);
}
const manifest = readFileSync(join(dirs[0], 'weights.json'), 'utf8');
let sum;
for (const dir of dirs) {
  if (readFileSync(join(dir, 'weights.json'), 'utf8') !== manifest) throw new Error(`${dir}: weights differ in names or shapes from ${dirs[0]}`);
  const bytes = readFileSync(join(dir, 'weights.bin'));
  const w = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  sum ??= new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) sum[i] += w[i];
}
const mean = Float32Array.from(sum, (x) => x / dirs.length);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'weights.bin'), Buffer.from(mean.buffer));
for (const f of ['model.json', 'vocabulary.json', 'weights.json']) copyFileSync(join(dirs[0], f), join(out, f));
console.log(`averaged ${dirs.length} checkpoints into ${out}`);
