import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGru4Rec, saveGru4Rec } from '../../../models/gru4rec/io.js';
import { Gru4RecScorer } from '../../../models/gru4rec/scorer.js';
import { trainGru4Rec, type Gru4RecTrainResult } from '../../../models/gru4rec/train.js';
import { evaluateNextItem } from '../../../models/training/evaluate-next-item.js';
import { buildCorpus, type SessionCorpus } from '../../../src/baselines/corpus.js';
import { ItemKnn, MostPopular } from '../../../src/baselines/index.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { tf } from '../../../src/backend/tf.js';
import { newSessionState } from '../../../src/sessions/session-state.js';
import { generateSessions } from '../../../src/synthetic/index.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';
import { expectValidationPass } from '../../helpers/validation-pass.js';

// One small synthetic log and one trained model shared by the tests (training is the slow part).
let dir: string;
let train: SessionCorpus;
let test: SessionCorpus;
let model: Gru4RecTrainResult;

beforeAll(async () => {
  await selectBackend({ backend: 'wasm', force: true });
  dir = await mkdtemp(join(tmpdir(), 'gru4rec-test-'));
  const log = generateSessions({ items: 200, intents: 8, sessions: 2500, seed: 11 });
  train = await buildCorpus(log.train.map((s) => ({ items: s.items })));
  test = await buildCorpus(log.test.map((s) => ({ items: s.items })), { vocabulary: train.vocabulary });
  model = await trainGru4Rec(train, {
    config: { layers: [48], epochs: 6, batchSize: 32, nSample: 64, learningRate: 0.1, momentum: 0.1, dropoutEmbedding: 0.1, dropoutHidden: 0.1, validationFraction: 0.1, patience: 0, seed: 1 },
  });
}, HEAVY_TEST_TIMEOUT_MS);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('GRU4Rec on a synthetic log', () => {
  it('beats MostPopular and first-order ItemKNN on next-item MRR@20', async () => {
    const scorer = new Gru4RecScorer(model.params);
    const gru = await evaluateNextItem(scorer, test);
    scorer.dispose();
    const pop = await evaluateNextItem(MostPopular.train(train), test);
    const knn = await evaluateNextItem(ItemKnn.train(train), test);
    expect(gru.predictions).toBe(pop.predictions);
    expect(gru.mrr).toBeGreaterThan(pop.mrr);
    expect(gru.mrr).toBeGreaterThan(knn.mrr);
    expect(gru.recall).toBeGreaterThan(pop.recall);
    // Validation improved during training (early stopping had something to choose from).
    const v = model.epochs.map((e) => e.validation!.mrr);
    expect(Math.max(...v)).toBeGreaterThan(v[0]!);
  });

  it('save → load gives identical scores; state survives a rebuild from items', async () => {
    const out = join(dir, 'model');
    await saveGru4Rec(out, model);
    const loaded = await loadGru4Rec(out);
    const loadedScorer: Gru4RecScorer = loaded.scorer;
    const direct = new Gru4RecScorer(model.params);
    const sessions = [[0, 5, 9], [3], [7, 7, 1, 2]].map((items) => ({ items }));
    const a = sessions.map(({ items }) => { const s = newSessionState('a', 0, 0); s.items.push(...items); return s; });
    const b = sessions.map(({ items }) => { const s = newSessionState('b', 0, 0); s.items.push(...items); return s; });
    await direct.observe(a);
    await loadedScorer.observe(b);
    expect(Array.from(await loadedScorer.score(b))).toEqual(Array.from(await direct.score(a)));
    expect(loaded.vocabulary.toArray()).toEqual(model.vocabulary.toArray());
    // Incremental stepping equals a rebuild from items.
    const inc = newSessionState('inc', 0, 0);
    for (const item of [7, 7, 1, 2]) { inc.items.push(item); await direct.observe([inc]); }
    const incScores = await direct.score([inc]);
    const rebuilt = await direct.score([a[2]!]);
    for (let i = 0; i < incScores.length; i++) expect(incScores[i]!).toBeCloseTo(rebuilt[i]!, 4);
    direct.dispose();
    loadedScorer.dispose();
  });

  it('loading validates shapes and refuses paths that leave the directory', async () => {
    const out = join(dir, 'tampered');
    await saveGru4Rec(out, model);
    const manifest = JSON.parse(await readFile(join(out, 'weights.json'), 'utf8'));
    manifest.weightsManifest[0].paths = ['../../etc/passwd'];
    await writeFile(join(out, 'weights.json'), JSON.stringify(manifest));
    await expect(loadGru4Rec(out)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    const out2 = join(dir, 'badshape');
    await saveGru4Rec(out2, model);
    const m = JSON.parse(await readFile(join(out2, 'model.json'), 'utf8'));
    m.config.layers = [47];
    await writeFile(join(out2, 'model.json'), JSON.stringify(m));
    await expect(loadGru4Rec(out2)).rejects.toMatchObject({ code: 'MODEL_FORMAT' });
  });

  it('scoring twice gives the same result and leaks no tensors', async () => {
    const scorer = new Gru4RecScorer(model.params);
    const s = newSessionState('x', 0, 0);
    s.items.push(1, 2);
    await scorer.observe([s]);
    const before = tf.memory().numTensors;
    const first = await scorer.score([s]);
    for (let i = 0; i < 5; i++) {
      s.items.push(i);
      await scorer.observe([s]);
      await scorer.score([s, s]);
    }
    s.modelState = undefined;
    await scorer.observe([s]);
    expect(tf.memory().numTensors).toBe(before);
    const t = newSessionState('y', 0, 0);
    t.items.push(1, 2);
    await scorer.observe([t]);
    expect(Array.from(await scorer.score([t]))).toEqual(Array.from(first));
    expect(Array.from(await scorer.score([t]))).toEqual(Array.from(first));
    scorer.dispose();
  });

  it('continued training keeps old items close and learns new ones', async () => {
    // New data: a few sessions with two items the model has never seen, following item 0.
    const newItems = ['new-a', 'new-b'];
    const old0 = model.vocabulary.idOf(0);
    const fresh = Array.from({ length: 300 }, (_, i) => ({ items: i % 2 ? [old0, newItems[0]!, newItems[1]!] : [old0, newItems[0]!] }));
    const oldSessions = Array.from({ length: 300 }, (_, i) => ({ items: [...Array.from({ length: 4 }, (_, j) => model.vocabulary.idOf((i * 7 + j * 3) % model.vocabulary.size))] }));
    const corpus = await buildCorpus([...oldSessions, ...fresh]);
    const baseScorer = new Gru4RecScorer(model.params);
    const probe = newSessionState('p', 0, 0);
    probe.items.push(5, 9);
    await baseScorer.observe([probe]);
    const beforeScores = (await baseScorer.score([probe])).slice();
    baseScorer.dispose();
    const snapshot = model.params.named().map((w) => ({ ...w, values: w.values.slice() }));
    const { Gru4RecParams } = await import('../../../models/gru4rec/params.js');
    const baseParams = Gru4RecParams.fromNamed(model.params.config, model.params.itemCount, new Map(snapshot.map((w) => [w.name, w])));
    const cont = await trainGru4Rec(corpus, { from: { params: baseParams, vocabulary: model.vocabulary }, config: { epochs: 2, validationFraction: 0, learningRate: 0.05 } });
    expect(cont.vocabulary.size).toBe(model.vocabulary.size + 2);
    for (let i = 0; i < model.vocabulary.size; i++) expect(cont.vocabulary.idOf(i)).toEqual(model.vocabulary.idOf(i));
    const scorer = new Gru4RecScorer(cont.params);
    const p2 = newSessionState('p', 0, 0);
    p2.items.push(5, 9);
    await scorer.observe([p2]);
    const after = await scorer.score([p2]);
    // Old items' scores stay correlated with before (not wiped).
    const n = model.vocabulary.size;
    expect(pearson(beforeScores, after.subarray(0, n))).toBeGreaterThan(0.5);
    // After item 0, the new item is now among the top 5.
    const q = newSessionState('q', 0, 0);
    q.items.push(cont.vocabulary.indexOf(old0));
    await scorer.observe([q]);
    const row = await scorer.score([q]);
    const newIx = cont.vocabulary.indexOf(newItems[0]!);
    const better = row.filter((v) => v > row[newIx]!).length;
    expect(better).toBeLessThan(5);
    scorer.dispose();
  });
});

describe('GRU4Rec training options', () => {
  it('is cancellable with an AbortSignal and trains with Adam too', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(trainGru4Rec(train, { signal: controller.signal, config: { layers: [8], epochs: 1, nSample: 8, batchSize: 8 } })).rejects.toMatchObject({ code: 'CANCELLED' });
    const adam = await trainGru4Rec(train, { config: { layers: [16], epochs: 2, nSample: 32, batchSize: 32, optimizer: 'adam', learningRate: 0.01, validationFraction: 0, seed: 2 } });
    expect(adam.epochs[1]!.loss).toBeLessThan(adam.epochs[0]!.loss);
    const ce = await trainGru4Rec(train, { config: { layers: [16], epochs: 2, nSample: 32, batchSize: 32, loss: 'cross-entropy', logq: 1, validationFraction: 0, seed: 2 } });
    expect(ce.epochs[1]!.loss).toBeLessThan(ce.epochs[0]!.loss);
  });

  it('trainOnValidation: after early stopping, one pass over the held-out sessions, and only over those', async () => {
    const config = { layers: [16], epochs: 2, nSample: 32, batchSize: 32, validationFraction: 0.1, validationMaxEvents: 300, seed: 4 };
    await expectValidationPass(train, 0.1, 300, test, (on, validation) => trainGru4Rec(train, { config: { ...config, trainOnValidation: on }, ...(validation ? { validation } : {}) }), (r) => r.params.itemTable);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('maxSeconds ends the epoch in progress at the budget and starts no other', async () => {
    const config = { layers: [8], epochs: 3, nSample: 8, batchSize: 64, validationFraction: 0 };
    const full = await trainGru4Rec(train, { config: { ...config, epochs: 1 } });
    const r = await trainGru4Rec(train, { config: { ...config, maxSeconds: 1e-6 } });
    expect(r.epochs).toHaveLength(1);
    expect(r.epochs[0]!.cutShort).toBe(true);
    expect(r.epochs[0]!.events).toBeLessThan(full.epochs[0]!.events);
    expect(full.epochs[0]!.cutShort).toBeUndefined();
  });

  it('rejects bad hyper-parameters with the field named', async () => {
    await expect(trainGru4Rec(train, { config: { layers: [0] } })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'layers' });
    await expect(trainGru4Rec(train, { config: { dropoutHidden: 1 } })).rejects.toMatchObject({ option: 'dropoutHidden' });
    await expect(trainGru4Rec(train, { config: { nope: 1 } as never })).rejects.toMatchObject({ option: 'nope' });
  });
});

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]!; mb += b[i]!; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { const x = a[i]! - ma, y = b[i]! - mb; sab += x * y; saa += x * x; sbb += y * y; }
  return sab / Math.sqrt(saa * sbb);
}
