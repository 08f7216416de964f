// `npm run bench`: every speed benchmark in turn (each prints its table and writes bench/results/*.json),
// then a summary in bench/results/run-all.json. Builds first. Not part of `npm test`.
// usage: node bench/run-all.mjs [--quick]   (--quick: small sizes, a smoke run of the scripts)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const quick = process.argv.includes('--quick');
const steps = [
  ['build', 'npm', ['run', 'build']],
  ['inference', 'node', ['bench/inference.mjs', ...(quick ? ['--items', '10000', '--batches', '1,64', '--pipeline', '10000', '--seconds', '0.5'] : ['--index-dir', '.cache/ann-index'])]],
  ['pool', 'node', ['bench/pool.mjs', ...(quick ? ['--items', '5000', '--seconds', '1'] : [])]],
  ['memory', 'node', ['bench/memory.mjs', ...(quick ? ['--sessions', '100000'] : [])]],
  // Training throughput is the GRU4Rec bench's (owned by the model work).
  ['training', 'node', ['bench/gru4rec.mjs', '--backends', 'wasm', '--hidden', '100', ...(quick ? ['--steps', '10'] : [])]],
];
const summary = { machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, started: new Date().toISOString(), quick, steps: [] };
for (const [name, cmd, args] of steps) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}  (load ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  summary.steps.push({ name, command: `${cmd} ${args.join(' ')}`, status: r.status, seconds: Math.round((performance.now() - t0) / 1000) });
  if (name === 'build' && r.status !== 0) break;
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/run-all.json', JSON.stringify(summary, null, 2));
console.table(summary.steps);
process.exit(summary.steps.some((s) => s.status !== 0) ? 1 : 0);
