// Transformer inference speed with and without the KV cache (see bench/transformer.md for results).
// usage: npm run build && node bench/transformer.mjs [--items 43097] [--batch 256] [--events 12] [--dist ../dist]
// Streams `batch` sessions event by event (each session `events` long) through TransformerScorer and reports
// events/s for observe only and for observe + score (all items), cached vs recomputing the window.
const args = process.argv.slice(2);
const flag = (name, dflt) => { const i = args.indexOf(name); return i < 0 ? dflt : args[i + 1]; };
const dist = flag('--dist', '../dist');
const items = Number(flag('--items', 43097));
const batch = Number(flag('--batch', 256));
const events = Number(flag('--events', 12));
const maxLength = Number(flag('--max-length', 20));
const rounds = Number(flag('--rounds', 3));
const { selectBackend } = await import(`${dist}/src/backend/select-backend.js`);
const { newSessionState } = await import(`${dist}/src/sessions/session-state.js`);
const { resolveTransformerConfig } = await import(`${dist}/models/transformer/config.js`);
const { TransformerParams } = await import(`${dist}/models/transformer/params.js`);
const { TransformerScorer } = await import(`${dist}/models/transformer/scorer.js`);
const { Rng } = await import(`${dist}/models/training/rng.js`);

const sel = await selectBackend();
const config = resolveTransformerConfig({ maxLength });
const params = new TransformerParams(config, items);
params.initialize(new Rng(1));
console.log(`backend ${sel.backend}; ${items} items, d ${config.hiddenSize}, ${config.blocks} blocks, ${config.heads} heads, maxLength ${config.maxLength}; ${batch} sessions × ${events} events`);

async function run(cache, withScore) {
  const scorer = new TransformerScorer(params, { cache });
  const rng = new Rng(2);
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const sessions = Array.from({ length: batch }, (_, i) => newSessionState(String(i), 0, 0));
    const t0 = performance.now();
    for (let t = 0; t < events; t++) {
      for (const s of sessions) s.items.push(rng.int(items));
      await scorer.observe(sessions); // synchronous on wasm; a Promise on webgpu
      if (withScore) await scorer.score(sessions);
    }
    best = Math.min(best, performance.now() - t0);
  }
  scorer.dispose();
  return (batch * events) / (best / 1000);
}

const rows = [];
for (const withScore of [false, true]) {
  const cached = await run(true, withScore);
  const full = await run(false, withScore);
  rows.push({ what: withScore ? 'observe + score all items' : 'observe only', cached, full });
  console.log(`${withScore ? 'observe + score' : 'observe only   '}: KV cache ${cached.toFixed(0)} events/s, recompute ${full.toFixed(0)} events/s, speed-up ×${(cached / full).toFixed(2)}`);
}
