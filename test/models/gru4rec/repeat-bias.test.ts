import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRU4REC_REPEAT_WINDOW, resolveGru4RecConfig, type Gru4RecConfig } from '../../../models/gru4rec/config.js';
import { loadGru4Rec, readGru4Rec, saveGru4Rec } from '../../../models/gru4rec/io.js';
import { Gru4RecParams } from '../../../models/gru4rec/params.js';
import { Gru4RecScorer } from '../../../models/gru4rec/scorer.js';
import { trainGru4Rec } from '../../../models/gru4rec/train.js';
import { Gru4RecStepper } from '../../../models/gru4rec/train-step.js';
import { tf } from '../../../models/nn/gradients.js';
import { bprMaxReference, sampledMasks } from '../../../models/nn/ranking-losses.js';
import { Rng } from '../../../models/training/rng.js';
import { PopularitySampler } from '../../../models/training/sampler.js';
import { SessionParallelBatcher, type SessionArrays } from '../../../models/training/session-batcher.js';
import { selectBackend } from '../../../src/backend/select-backend.js';
import { topK } from '../../../src/scoring/top-k.js';
import { newSessionState, type SessionState } from '../../../src/sessions/session-state.js';
import { ItemVocabulary } from '../../../src/vocab/item-vocabulary.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

const N = 12;
// Three sessions of equal length, so every step holds all three (row r = session r); each repeats an item, and
// no item is in two sessions (the step's targets are distinct: no merged copies).
const SESSIONS = [[0, 1, 0, 2, 1], [3, 4, 3, 3, 5], [6, 7, 8, 6, 7]];

function arrays(sessions: number[][]): SessionArrays {
  const offsets = new Int32Array(sessions.length + 1);
  sessions.forEach((s, i) => { offsets[i + 1] = offsets[i]! + s.length; });
  return { offsets, items: Int32Array.from(sessions.flat()) };
}

function model(loss: Gru4RecConfig['loss'], layers = [6]): Gru4RecParams {
  const config = resolveGru4RecConfig({ layers, loss, repeatBias: true, nSample: 0, batchSize: 3, dropoutEmbedding: 0, dropoutHidden: 0, finalActivation: 'elu', bpreg: 0.5, logq: 0, seed: 3 });
  const p = new Gru4RecParams(config, N);
  p.initialize(new Rng(5));
  for (const w of p.named()) for (let i = 0; i < w.values.length; i++) w.values[i] = w.values[i]! * 4 + 0.05 * Math.sin(i);
  p.repeatBias!.forEach((_, k) => { p.repeatBias![k] = 0.8 - 0.3 * k; });
  return p;
}

const uniform = () => new PopularitySampler(new Float64Array(N).fill(1), 0.5);

beforeAll(async () => { await selectBackend({ backend: 'cpu' }); });

describe.each(['bpr-max', 'cross-entropy'] as const)('GRU4Rec repeat-aware scores (%s)', (loss) => {
  it('training forward = serving forward: the step\'s loss equals the loss over the scorer\'s rows (repeat scores included)', async () => {
    const p = model(loss);
    const stepper = new Gru4RecStepper(p, p.config, uniform(), new Rng(1));
    const scorer = new Gru4RecScorer(p);
    const batcher = new SessionParallelBatcher(arrays(SESSIONS), 3);
    const states = SESSIONS.map((_, i) => newSessionState(`s${i}`, 0, 0));
    for (let t = 0; batcher.step(); t++) {
      expect(batcher.batch.size).toBe(3);
      const trained = stepper.step(batcher.batch, false);
      states.forEach((s, r) => s.items.push(SESSIONS[r]![t]!));
      await scorer.observe(states);
      const rows = await scorer.score(states);
      // The step's columns: the targets, then every session's items so far (each item once).
      const targets = SESSIONS.map((s) => s[t + 1]!);
      const columns = [...new Set([...targets, ...SESSIONS.flatMap((s) => s.slice(0, t + 1))])];
      const scores = tf.tensor2d(states.flatMap((_, r) => columns.map((it) => rows[r * N + it]!)), [3, columns.length]);
      const served = loss === 'bpr-max'
        ? bprMaxReference({ scores, ...sampledMasks(Int32Array.from(columns), 3) }, 0.5, true).dataSync()[0]!
        : tf.mean(tf.sub(tf.logSumExp(scores, 1), tf.tensor1d(targets.map((_, r) => rows[r * N + targets[r]!]!)))).dataSync()[0]!;
      expect(trained).toBeCloseTo(served, 4);
    }
    scorer.dispose();
  });

  it('repeat weights\' gradients match central differences (two layers)', () => {
    const p = model(loss, [6, 5]);
    const stepper = new Gru4RecStepper(p, p.config, uniform(), new Rng(1));
    // The fourth click of each session (zeroed hidden state: reset), whose session history holds repeats at distances 0–2.
    const data = arrays(SESSIONS);
    const batch = {
      size: 3, inputs: Int32Array.from(SESSIONS, (s) => s[3]!), targets: Int32Array.from(SESSIONS, (s) => s[4]!), slots: Int32Array.of(0, 1, 2), reset: Uint8Array.of(1, 1, 1),
      history: { items: data.items, start: data.offsets.subarray(0, 3), position: Int32Array.from(data.offsets.subarray(0, 3), (o) => o + 3) },
    };
    const lossAt = () => stepper.step(batch, false);
    stepper.step(batch, false, true);
    const g = stepper.lastGradients!.repeatBias!;
    expect(g.length).toBe(GRU4REC_REPEAT_WINDOW);
    const w = p.repeatBias!;
    for (const k of [0, 1, 2, 3, 7]) {
      const eps = 1e-3, old = w[k]!;
      w[k] = old + eps; const up = lossAt();
      w[k] = old - eps; const down = lossAt();
      w[k] = old;
      const numeric = (up - down) / (2 * eps);
      expect(Math.abs(numeric - g[k]!)).toBeLessThan(2e-3 + 0.03 * Math.abs(numeric));
    }
    // Distances no session reaches have no entry.
    expect(g[7]).toBe(0);
    expect(Math.abs(g[0]!) + Math.abs(g[1]!)).toBeGreaterThan(1e-3);
  });
});

describe('GRU4Rec repeat-aware training and serving', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'gru4rec-repeat-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it.each(['bpr-max', 'cross-entropy'] as const)('learns to favour the item clicked two steps back when sessions alternate between two items (%s)', async (loss) => {
    const rng = new Rng(4);
    const items = 120;
    const sessions: number[][] = [];
    for (let s = 0; s < 1500; s++) {
      const x = rng.int(items), y = (x + 1 + rng.int(items - 1)) % items;
      sessions.push(Array.from({ length: 4 + rng.int(5) }, (_, t) => (t % 2 === 0 ? x : y)));
    }
    const vocabulary = ItemVocabulary.fromIds(Array.from({ length: items }, (_, i) => `i${i}`));
    const r = await trainGru4Rec({ ...arrays(sessions), vocabulary }, { backend: 'cpu', config: { layers: [16], loss, repeatBias: true, nSample: 64, batchSize: 32, epochs: 2, validationFraction: 0, seed: 1 } });
    const w = r.params.repeatBias!;
    // Distance 1 is the item two clicks back (the newest is distance 0).
    expect(w[1]!).toBeGreaterThan(Math.max(w[0]!, w[2]!) + 0.2);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('recommend through the scoring table (exact and ANN) ranks like score + topK, repeat scores included', async () => {
    const p = model('bpr-max', [8]);
    p.repeatBias!.set([3, -2, 1.5, 0.5]);
    const exact = new Gru4RecScorer(p, { scoring: 'exact' });
    const ann = new Gru4RecScorer(p, { scoring: 'ann', candidates: N });
    const plain = new Gru4RecScorer(p);
    const sessions: SessionState[] = [[1, 4, 1, 9], [2], [11, 3, 3, 0, 5]].map((items, i) => { const s = newSessionState(`s${i}`, 0, 0); s.items.push(...items); return s; });
    await plain.observe(sessions);
    const rows = await plain.score(sessions);
    const filters = [{}, { exclude: [2] }, { allow: new Set([0, 3, 5, 7, 11]) }];
    for (const scorer of [exact, ann, plain]) {
      const got = await scorer.recommend(sessions, 4, filters);
      sessions.forEach((_, b) => {
        const want = topK(rows, 4, filters[b], b * N, N);
        expect(Array.from(got[b]!.items)).toEqual(Array.from(want.items));
        got[b]!.scores.forEach((s, i) => expect(s).toBeCloseTo(want.scores[i]!, 4));
      });
    }
    for (const s of [exact, ann, plain]) s.dispose();
  });

  it('save → load keeps the repeat weights; a model saved before repeatBias existed loads without them, its timeBudgetSeconds as maxSeconds', async () => {
    const p = model('cross-entropy');
    const vocabulary = ItemVocabulary.fromIds(Array.from({ length: N }, (_, i) => `i${i}`));
    const out = join(dir, 'm');
    await saveGru4Rec(out, { params: p, config: p.config, vocabulary });
    const loaded = await loadGru4Rec(out);
    const direct = new Gru4RecScorer(p);
    const mk = () => { const s = newSessionState('a', 0, 0); s.items.push(3, 4, 3); return s; };
    const a = mk(), b = mk();
    await direct.observe([a]); await loaded.scorer.observe([b]);
    expect(Array.from(await loaded.scorer.score([b]))).toEqual(Array.from(await direct.score([a])));
    // An older directory: no repeatBias in the config and no repeat_bias weight.
    const old = resolveGru4RecConfig({ ...p.config, repeatBias: false });
    const plain = new Gru4RecParams(old, N);
    const oldDir = join(dir, 'old');
    await saveGru4Rec(oldDir, { params: plain, config: old, vocabulary });
    const manifest = JSON.parse(await readFile(join(oldDir, 'model.json'), 'utf8')) as { config: Record<string, unknown> };
    delete manifest.config['repeatBias'];
    // ... and the time budget under its first name.
    delete manifest.config['maxSeconds'];
    manifest.config['timeBudgetSeconds'] = 120;
    await writeFile(join(oldDir, 'model.json'), JSON.stringify(manifest));
    const reloaded = await readGru4Rec(oldDir);
    expect(reloaded.config.repeatBias).toBe(false);
    expect(reloaded.params.repeatBias).toBeUndefined();
    expect(reloaded.config.maxSeconds).toBe(120);
    direct.dispose(); loaded.scorer.dispose();
  });
});
