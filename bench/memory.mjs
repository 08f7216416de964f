// Memory per live session: N sessions in the Sessionizer, each with a full window of item events and a GRU
// hidden state (Float32Array, as Gru4RecScorer keeps it in modelState). Prints a table and writes
// bench/results/memory.json. Run `npm run build` first; re-runs itself with --expose-gc when needed.
// usage: node bench/memory.mjs [--sessions 1000000] [--window 20] [--hidden 100] [--event-ids none,uuid] [--out file]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=12000', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { Sessionizer } = await import('../dist/src/sessions/sessionizer.js');
const arg = (name, def) => { const i = process.argv.indexOf(name); return i < 0 ? def : process.argv[i + 1]; };
const sessions = Number(arg('--sessions', '1000000'));
const windowSize = Number(arg('--window', '20'));
const hidden = Number(arg('--hidden', '100'));
const idModes = arg('--event-ids', 'none,uuid').split(',');
const out = arg('--out', 'bench/results/memory.json');

const used = () => {
  globalThis.gc(); globalThis.gc();
  const m = process.memoryUsage();
  // heapUsed covers JS objects; external/arrayBuffers cover Float32Array backing stores.
  return { heap: m.heapUsed, external: m.external, total: m.heapUsed + m.external };
};
const hex = (x) => x.toString(16).padStart(8, '0');

const results = { machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, sessions, windowSize, hidden, runs: [] };
for (const ids of idModes) {
  const before = used();
  const sz = new Sessionizer({ maxItems: windowSize, maxSessions: sessions + 1 });
  const t0 = performance.now();
  // Interleaved like live traffic: round r gives every session its r-th event.
  for (let r = 0; r < windowSize; r++) {
    for (let i = 0; i < sessions; i++) {
      const ev = { sessionId: `sess-${i}`, timestamp: 1_700_000_000_000 + r * 1000 + (i % 1000) };
      if (ids === 'uuid') ev.eventId = `${hex(i)}-${hex(r * 7919)}-4a1b-9c2d-${hex(i ^ r)}`;
      const res = sz.ingest(ev, (i * 31 + r * 17) % 43_000);
      if (r === windowSize - 1) res.session.modelState = new Float32Array(hidden);
    }
  }
  const ingestS = (performance.now() - t0) / 1000;
  const after = used();
  const run = {
    eventIds: ids,
    liveSessions: sz.size,
    bytesPerSession: Math.round((after.total - before.total) / sz.size),
    heapBytesPerSession: Math.round((after.heap - before.heap) / sz.size),
    externalBytesPerSession: Math.round((after.external - before.external) / sz.size),
    ingestEventsPerSec: Math.round((sessions * windowSize) / ingestS),
    load: loadavg().map((x) => x.toFixed(2)).join(' '),
  };
  results.runs.push(run);
  console.log(`sessions=${sessions} window=${windowSize} hidden=${hidden} eventIds=${ids}: ${run.bytesPerSession} B/session (heap ${run.heapBytesPerSession}, external ${run.externalBytesPerSession}); ingest ${run.ingestEventsPerSec} ev/s; load ${run.load}`);
  sz.closeAll();
}
console.table(results.runs);
mkdirSync('bench/results', { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`wrote ${out}`);
