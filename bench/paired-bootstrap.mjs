// Is model A's P@20 / MRR@20 on Diginetica really different from model B's? A paired bootstrap over test
// sessions (all prefixes of a session stay together: they share the session's items), from the per-prediction
// ranks that `transformer-accuracy.mjs eval --ranks FILE` writes. Seeded; prints the observed differences
// (A − B) and their 95 % intervals.
// usage: node bench/paired-bootstrap.mjs RANKS_A RANKS_B [--resamples 10000] [--data ../shared/data/diginetica]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); if (i < 0) return def; const v = args[i + 1]; args.splice(i, 2); return v; };
const resamples = Number(opt('--resamples', '10000'));
const data = opt('--data', '../shared/data/diginetica');
const [fileA, fileB] = args;
if (!fileA || !fileB) { console.error('usage: paired-bootstrap.mjs RANKS_A RANKS_B [--resamples N] [--data DIR]'); process.exit(2); }
const read = (f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map(Number);
const a = read(fileA), b = read(fileB);
const prefixLengths = readFileSync(`${data}/test_prefix_target.tsv`, 'utf8').split('\n').filter((l) => l.trim()).map((l) => l.split('\t')[0].trim().split(/\s+/).length);
if (a.length !== b.length || a.length !== prefixLengths.length) throw new Error(`rank files and test set differ in length: ${a.length}, ${b.length}, ${prefixLengths.length}`);

// Sessions: the file lists each session's prefixes from the longest down to length 1.
const sessions = [];
let current = [];
prefixLengths.forEach((len, i) => { current.push(i); if (len === 1) { sessions.push(current); current = []; } });
if (current.length) sessions.push(current);

const hit = (r) => (r >= 1 && r <= 20 ? 1 : 0);
const rr = (r) => (r >= 1 && r <= 20 ? 1 / r : 0);
// Per session: summed differences and prediction count.
const dHit = sessions.map((s) => s.reduce((t, i) => t + hit(a[i]) - hit(b[i]), 0));
const dRr = sessions.map((s) => s.reduce((t, i) => t + rr(a[i]) - rr(b[i]), 0));
const count = sessions.map((s) => s.length);
const n = a.length;
const observed = { p20: dHit.reduce((x, y) => x + y, 0) / n, mrr20: dRr.reduce((x, y) => x + y, 0) / n };

// xorshift32 with a fixed seed: the same intervals on every run.
let state = 0x9e3779b9;
const next = () => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state / 2 ** 32; };
const samplesP = [], samplesM = [];
for (let r = 0; r < resamples; r++) {
  let h = 0, m = 0, c = 0;
  for (let k = 0; k < sessions.length; k++) { const j = Math.floor(next() * sessions.length); h += dHit[j]; m += dRr[j]; c += count[j]; }
  samplesP.push(h / c); samplesM.push(m / c);
}
const ci = (xs) => { const s = [...xs].sort((x, y) => x - y); return [s[Math.floor(0.025 * s.length)], s[Math.ceil(0.975 * s.length) - 1]]; };
const share = (xs) => xs.filter((x) => x < 0).length / xs.length;
const pts = (x) => (100 * x).toFixed(2);
const [pl, ph] = ci(samplesP), [ml, mh] = ci(samplesM);
console.log(`${sessions.length} sessions, ${n} predictions, ${resamples} paired session resamples`);
console.log(`P@20   A − B = ${pts(observed.p20)} points, 95 % interval [${pts(pl)}, ${pts(ph)}], share of resamples with A < B: ${share(samplesP).toFixed(3)}`);
console.log(`MRR@20 A − B = ${pts(observed.mrr20)} points, 95 % interval [${pts(ml)}, ${pts(mh)}], share of resamples with A < B: ${share(samplesM).toFixed(3)}`);
