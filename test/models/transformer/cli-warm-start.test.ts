import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTransformer } from '../../../models/transformer/io.js';
import { main } from '../../../src/cli/main.js';
import { generateSessions } from '../../../src/synthetic/index.js';
import { captureIo } from '../../helpers/capture-io.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

// The transformer's warm start from the CLI (`train --from DIR`): the saved weights and configuration are the
// starting point, parameters given now apply on top (the measured recipe switches the transition prior on for
// the last epochs), the learning-rate schedule continues from the saved epoch count, and a setting that would
// change a weight's shape is refused.
let dir: string;
const tiny = ['--param', 'hiddenSize=8', '--param', 'heads=1', '--param', 'feedForwardSize=16', '--param', 'maxLength=6', '--param', 'nSample=16', '--param', 'batchSize=16', '--param', 'validationFraction=0', '--json'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nextclick-warm-'));
  const log = generateSessions({ items: 40, intents: 4, sessions: 150, meanExtraLength: 3, seed: 3 });
  const rows = ['SessionId\tItemId\tTime'];
  log.train.forEach((s, i) => s.items.forEach((it, j) => rows.push(`${i}\t${it}\t${i * 100 + j}`)));
  await writeFile(join(dir, 'train.tsv'), rows.join('\n') + '\n');
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function train(...args: string[]) {
  const c = captureIo();
  const code = await main(['train', '--train', join(dir, 'train.tsv'), '--model', 'transformer', ...args], c.io);
  return { code, ...c.text() };
}

describe('nextclick train --model transformer --from', () => {
  it('continues from the saved weights with new settings on top, and refuses an architecture change', { timeout: HEAVY_TEST_TIMEOUT_MS }, async () => {
    const first = join(dir, 'first');
    expect((await train('--out', first, '--param', 'epochs=2', ...tiny)).code).toBe(0);
    const second = join(dir, 'second');
    const r = await train('--from', first, '--out', second, '--param', 'epochs=1', '--param', 'transitionPrior=true', '--json');
    expect(r.code, r.stderr).toBe(0);
    const [a, b] = [await readTransformer(first), await readTransformer(second)];
    expect(b.config.hiddenSize).toBe(8); // the saved architecture, not the default
    expect(b.config.transitionPrior).toBe(true);
    expect(b.vocabulary.toArray()).toEqual(a.vocabulary.toArray());
    // Started from the saved weights: one more epoch moves them a little, a fresh start would not be near them.
    const table = (m: typeof a) => m.params.named().find((w) => w.name.includes('item'))!.values;
    let diff = 0, norm = 0;
    table(a).forEach((v, i) => { diff += (v - table(b)[i]!) ** 2; norm += v * v; });
    expect(Math.sqrt(diff / norm)).toBeLessThan(0.5);
    const manifest = JSON.parse(await readFile(join(second, 'model.json'), 'utf8')) as { kind: string };
    expect(manifest.kind).toBe('transformer');

    const bad = await train('--from', first, '--out', join(dir, 'third'), '--param', 'hiddenSize=16');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/hiddenSize=8.*would not fit/);
  });
});
