// Throughput of the click log readers and of `prepare`. Run: npm run build && node bench/data.mjs [events=5000000]
// Prints one JSON line per measurement. Writes a synthetic log to the OS temp folder and removes it afterwards.
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { prepare, readClickLog } from '../dist/src/data/index.js';

// `node bench/data.mjs --prepare FILE OUTDIR` runs prepare alone, so its peak RSS is not the generator's.
if (process.argv[2] === '--prepare') {
  const t0 = performance.now();
  const stats = await prepare(process.argv[3], { format: 'tsv', outDir: process.argv[4] });
  const s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ bench: 'prepare', events: stats.read.events, sessions: stats.read.sessions, items: stats.read.items, seconds: +s.toFixed(2), eventsPerS: Math.round(stats.read.events / s), train: stats.train.events, test: stats.test.events, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
  process.exit(0);
}
const N = Number(process.argv[2] ?? 5_000_000);
const DATA = '../shared/data';

async function readRate(path, format) {
  const t0 = performance.now();
  let n = 0;
  for await (const batch of readClickLog(path, { format }).batches()) n += batch.length;
  const t1 = performance.now();
  let m = 0;
  for await (const e of readClickLog(path, { format })) if (e) m++;
  const t2 = performance.now();
  const s1 = (t1 - t0) / 1000;
  const s2 = (t2 - t1) / 1000;
  console.log(JSON.stringify({ bench: 'read', path, format, events: n, mb: +(statSync(path).size / 1e6).toFixed(1), batchesS: +s1.toFixed(2), eventsPerS_batches: Math.round(n / s1), iterS: +s2.toFixed(2), eventsPerS_forAwait: Math.round(m / s2) }));
}

// Synthetic log: sessions of 1–10 events, 50k items with a heavy head, fixed seed, contiguous sessions.
async function synth(path, events, shuffled) {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const rows = [];
  let t = 1_600_000_000;
  for (let s = 1, n = 0; n < events; s++) {
    const len = 1 + Math.floor(rnd() * 10);
    for (let i = 0; i < len && n < events; i++, n++) {
      t += rnd() * 0.5;
      rows.push(`${s}\t${Math.floor(50_000 * rnd() ** 3)}\t${t.toFixed(3)}`);
    }
  }
  if (shuffled) for (let i = rows.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [rows[i], rows[j]] = [rows[j], rows[i]]; }
  const out = createWriteStream(path);
  out.write('SessionId\tItemId\tTime\n');
  for (let i = 0; i < rows.length; i += 100_000) if (!out.write(rows.slice(i, i + 100_000).join('\n') + '\n')) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

if (existsSync(DATA)) {
  await readRate(`${DATA}/yoochoose-100k/train.tsv`, 'yoochoose');
  await readRate(`${DATA}/diginetica/train_sessions.txt`, 'srgnn');
  await readRate(`${DATA}/diginetica-sample/sample_train-item-views.csv`, 'diginetica');
}
const dir = mkdtempSync(join(tmpdir(), 'nextclick-bench-data-'));
try {
  for (const shuffled of [false, true]) {
    const path = join(dir, `synthetic-${shuffled ? 'shuffled' : 'grouped'}.tsv`);
    await synth(path, N, shuffled);
    await readRate(path, 'tsv');
    console.log(`input: synthetic, ${shuffled ? 'rows shuffled' : 'sessions grouped'}`);
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--prepare', path, join(dir, 'out')], { stdio: 'inherit' });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
