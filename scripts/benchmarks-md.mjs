// Rebuilds BENCHMARKS.md from its head (bench/HEADLINE.md) and the per-area notes bench/*.md, demoting each
// note's headings one level (outside code fences) so the result is one document.
//   node scripts/benchmarks-md.mjs
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

const areas = ['baselines', 'gru4rec', 'gru4rec-async', 'transformer', 'speed', 'kafka', 'data', 'gpu', 'tensorflow'];
const parts = [readFileSync('bench/HEADLINE.md', 'utf8').trimEnd()];
for (const area of areas) {
  const file = `bench/${area}.md`;
  if (!existsSync(file)) continue;
  let fenced = false;
  const lines = readFileSync(file, 'utf8').split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    return !fenced && /^#{1,5} /.test(line) ? `#${line}` : line;
  });
  parts.push(`---\n\n<!-- copied from ${file} by scripts/benchmarks-md.mjs -->\n${lines.join('\n').trimEnd()}`);
}
writeFileSync('BENCHMARKS.md', parts.join('\n\n') + '\n');
console.log(`BENCHMARKS.md: ${parts.length - 1} sections`);
