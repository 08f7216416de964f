// The published entry points, as a user's process loads them (the compiled dist/, built by `npm test`'s pretest).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveGru4Rec } from '../../models/gru4rec/io.js';
import { trainGru4Rec } from '../../models/gru4rec/train.js';
import { buildCorpus } from '../../src/baselines/corpus.js';
import { generateSessions } from '../../src/synthetic/index.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const dist = (path: string) => pathToFileURL(join(root, 'dist', path)).href;

/** Runs an ES module in a fresh Node process; it prints one JSON line. */
async function runModule(source: string): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'nextclick-entry-'));
  const file = join(dir, 'probe.mjs');
  await writeFile(file, source);
  const { stdout } = await run(process.execPath, [file], { cwd: root, timeout: 300_000, maxBuffer: 16 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** The packages a module's import loaded, from Node's CommonJS cache (TF.js, kafkajs and prom-client are CommonJS). */
const loadedPackagesProbe = (spec: string) => `
import { createRequire } from 'node:module';
const m = await import(${JSON.stringify(spec)});
const cache = Object.keys(createRequire(import.meta.url).cache);
const heavy = ['@tensorflow/tfjs-core', 'kafkajs', 'prom-client'].filter((p) => cache.some((f) => f.includes('/node_modules/' + p + '/')));
console.log(JSON.stringify({ names: Object.keys(m).sort(), heavy }));
`;

describe('package entry points (dist/)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  });

  it('nextclick (core) exports about 30 names and loads neither TF.js nor kafkajs nor prom-client', async () => {
    const r = await runModule(loadedPackagesProbe(dist('index.js')));
    expect(r['heavy']).toEqual([]);
    expect(r['names']).toEqual([
      'ClickPipeline', 'ClosedError', 'ErrorCodes', 'InvalidEventError', 'InvalidOptionError', 'ItemKnn', 'ItemVocabulary',
      'JsonCodec', 'ModelFormatError', 'MostPopular', 'MsgpackCodec', 'NextclickError', 'Recommender', 'SequentialRules',
      'Sessionizer', 'VSKnn', 'buildCorpus', 'createStderrLogger', 'evaluateReplay', 'formatComparison', 'formatEvaluation',
      'generateSessions', 'isNextclickError', 'loadModel', 'prepare', 'readClickLog', 'readSessions', 'registerModelKind',
      'registeredModelKinds', 'trainBaseline', 'validateClickEvent',
    ]);
  });

  it('nextclick/pool loads none of them either; nextclick/kafka loads kafkajs and prom-client but not TF.js', async () => {
    const pool = await runModule(loadedPackagesProbe(dist('streaming/pool/index.js')));
    expect(pool).toEqual({ names: ['RecommenderPool'], heavy: [] });
    const kafka = await runModule(loadedPackagesProbe(dist('streaming/index.js')));
    expect(kafka['heavy']).toEqual(['kafkajs', 'prom-client']);
    expect(kafka['names']).toContain('KafkaStreamWorker');
  });

  it('the core entry loads a saved GRU4Rec directory: nextclick/models is imported on first use', async () => {
    const log = generateSessions({ items: 120, intents: 6, sessions: 200, seed: 3 });
    const corpus = await buildCorpus(log.train.map((s) => ({ items: s.items })));
    const model = await trainGru4Rec(corpus, { config: { layers: [8], epochs: 1, nSample: 16, batchSize: 16, validationFraction: 0, seed: 1 } });
    const dir = join(await mkdtemp(join(tmpdir(), 'nextclick-entry-gru-')), 'model');
    await saveGru4Rec(dir, model);
    const r = await runModule(`
import { createRequire } from 'node:module';
const { Recommender, registeredModelKinds } = await import(${JSON.stringify(dist('index.js'))});
const before = registeredModelKinds();
const rec = await Recommender.load(${JSON.stringify(dir)}, { k: 3 });
const top = await rec.observe({ sessionId: 's', itemId: ${JSON.stringify(log.train[0]!.items[0])}, timestamp: 1 });
await rec.close();
const tfLoaded = Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/@tensorflow/tfjs-core/'));
console.log(JSON.stringify({ before, after: registeredModelKinds(), items: top?.items.length ?? 0, tfLoaded }));
`);
    expect(r['before']).toEqual(['itemknn', 'pop', 'sr', 'vsknn']);
    expect(r['after']).toEqual(expect.arrayContaining(['gru4rec', 'transformer']));
    expect(r['items']).toBe(3);
    expect(r['tfLoaded']).toBe(true);
  });
});
