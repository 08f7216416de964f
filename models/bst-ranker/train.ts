import { selectBackend, type BackendName } from '../../src/backend/select-backend.js';
import { CancelledError, InvalidOptionError } from '../../src/errors.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import { topK } from '../../src/scoring/top-k.js';
import { newSessionState } from '../../src/sessions/session-state.js';
import { ProgressBar } from '../../src/instrumentation/progress.js';
import { noopLogger, type Logger } from '../../src/instrumentation/typed-emitter.js';
import type { ItemVocabulary } from '../../src/vocab/item-vocabulary.js';
import { OptimizedParameter, RowGradientAccumulator, defaultOptimizerOptions, type OptimizerOptions } from '../training/optimizers.js';
import { Rng, dropoutMask } from '../training/rng.js';
import { PopularitySampler } from '../training/sampler.js';
import type { SessionArrays } from '../training/session-batcher.js';
import { tf } from '../nn/gradients.js';
import { gatherRows } from '../../src/backend/gather.js';
import { assertSyncReads, backendReadsSync, readAsync, readSync } from '../training/tensor-reads.js';
import { embed, encode, windowAttention, windowPositions, type BlockDropout } from '../transformer/forward.js';
import type { NamedWeight } from '../transformer/params.js';
import { resolveBstRankerConfig, type BstRankerConfig } from './config.js';
import { BstRankerParams } from './params.js';
import { clickLogits, windowBuckets } from './ranker.js';

export interface BstTrainingData extends SessionArrays {
  readonly vocabulary: ItemVocabulary;
  /** Event times (ms) aligned with `items`, for the time-gap feature. */
  readonly times?: Float64Array;
}

export interface BstTrainOptions {
  readonly config?: Partial<BstRankerConfig>;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** @defaultValue false */
  readonly progress?: boolean;
  readonly progressStream?: NodeJS.WriteStream;
  readonly backend?: BackendName | 'auto';
  /** Start the item embedding from this table `[itemCount, hiddenSize]` (e.g. the first stage's, when widths match). */
  readonly initItemTable?: Float32Array;
  /**
   * The first stage: a `hardNegativeShare` of each prefix's negatives come from its top `hardNegativeTopM`
   * (hard negatives: the items the ranker will actually order), the rest ∝ support^sampleAlpha.
   */
  readonly candidates?: Scorer;
}

export interface BstTrainResult {
  readonly params: BstRankerParams;
  readonly config: BstRankerConfig;
  readonly vocabulary: ItemVocabulary;
  readonly epochs: { epoch: number; loss: number; prefixes: number; seconds: number }[];
  readonly trainSeconds: number;
  readonly backend: BackendName;
}

interface Prefix { start: number; end: number; sessionStart: number }

/**
 * Trains the BST ranker on (session prefix, true next item) positives and `negatives` sampled items per
 * prefix (∝ support^sampleAlpha) with log loss; the block's forward/backward is the transformer's.
 */
export async function trainBstRanker(data: BstTrainingData, options: BstTrainOptions = {}): Promise<BstTrainResult> {
  const logger = options.logger ?? noopLogger;
  const selection = await selectBackend({ ...(options.backend ? { backend: options.backend } : {}), logger });
  const config = resolveBstRankerConfig(options.config);
  const rng = new Rng(config.seed);
  const params = new BstRankerParams(config, data.vocabulary.size);
  params.initialize(rng);
  if (config.useCandidateScore && !options.candidates) throw new InvalidOptionError('useCandidateScore', 'useCandidateScore needs the candidates model in training (options.candidates / --candidates DIR); or set useCandidateScore=false');
  if (options.initItemTable) {
    if (options.initItemTable.length !== params.block.itemTable.length) throw new InvalidOptionError('initItemTable', `initItemTable has ${options.initItemTable.length} values, expected ${params.block.itemTable.length} (items × hiddenSize)`);
    params.block.itemTable.set(options.initItemTable);
  }
  const support = new Float64Array(data.vocabulary.size);
  for (let k = 0; k < data.items.length; k++) support[data.items[k]!]!++;
  const sampler = new PopularitySampler(support, config.sampleAlpha);
  const prefixes: Prefix[] = [];
  for (let s = 0; s + 1 < data.offsets.length; s++) {
    const a = data.offsets[s]!, b = data.offsets[s + 1]!;
    for (let t = a + 1; t < b; t++) prefixes.push({ start: Math.max(a, t - config.maxLength), end: t, sessionStart: a });
  }
  const stepper = new BstStepper(params, data, sampler, rng.fork());
  const epochs: BstTrainResult['epochs'] = [];
  const started = performance.now();
  let outOfTime = false;
  // Sync reads where the backend allows them (no promise per product on wasm); webgpu awaits data().
  const syncReads = backendReadsSync();
  for (let epoch = 1; epoch <= config.epochs && !outOfTime; epoch++) {
    for (let i = prefixes.length - 1; i > 0; i--) { const j = rng.int(i + 1); [prefixes[i], prefixes[j]] = [prefixes[j]!, prefixes[i]!]; }
    const n = config.maxPrefixes > 0 ? Math.min(config.maxPrefixes, prefixes.length) : prefixes.length;
    const bar = new ProgressBar({ label: `bst-ranker epoch ${epoch}/${config.epochs}`, total: n, unit: 'prefixes', silent: !options.progress, ...(options.progressStream ? { stream: options.progressStream } : {}) });
    const t0 = performance.now();
    let lossSum = 0, done = 0, recent = 0, recentN = 0;
    for (let i = 0; i < n; i += config.batchSize) {
      if (options.signal?.aborted) { bar.finish('cancelled'); throw new CancelledError('BST ranker training'); }
      if (config.maxSeconds > 0 && (performance.now() - started) / 1000 > config.maxSeconds) { outOfTime = true; break; }
      const batch = prefixes.slice(i, Math.min(n, i + config.batchSize));
      const hard = options.candidates && (config.hardNegativeShare > 0 || config.useCandidateScore) ? await hardCandidates(options.candidates, data, batch, config.hardNegativeTopM) : undefined;
      const loss = syncReads ? stepper.step(batch, hard, config.hardNegativeShare) : await stepper.stepAsync(batch, hard, config.hardNegativeShare);
      lossSum += loss * batch.length;
      done += batch.length;
      recent += loss; recentN++;
      if (recentN === 20) { bar.update(done, `loss ${(recent / recentN).toFixed(4)}`); recent = 0; recentN = 0; await new Promise<void>((r) => setImmediate(r)); }
    }
    bar.finish(`loss ${(lossSum / Math.max(1, done)).toFixed(4)}`);
    epochs.push({ epoch, loss: lossSum / Math.max(1, done), prefixes: done, seconds: (performance.now() - t0) / 1000 });
    logger.info({ ...epochs[epochs.length - 1] }, `bst-ranker epoch ${epoch}`);
  }
  return { params, config, vocabulary: data.vocabulary, epochs, trainSeconds: (performance.now() - started) / 1000, backend: selection.backend };
}

/** The first stage's top `topM` items for each prefix (row-major) and its full score rows. */
async function hardCandidates(scorer: Scorer, data: SessionArrays, batch: readonly Prefix[], topM: number): Promise<FirstStage> {
  const states = batch.map((pr, i) => {
    const st = newSessionState(String(i), 0, 0);
    for (let k = pr.sessionStart; k < pr.end; k++) st.items.push(data.items[k]!);
    return st;
  });
  await scorer.observe(states);
  const scores = await scorer.score(states);
  const N = scorer.itemCount;
  const out = new Int32Array(batch.length * topM);
  states.forEach((_, i) => out.set(topK(scores, topM, {}, i * N, N).items, i * topM));
  return { top: out, scores, itemCount: N };
}

interface FirstStage { top: Int32Array; scores: Float32Array; itemCount: number }

/**
 * One BST training step: each prefix with its target and K sampled candidates, each candidate as the last
 * position of its own window; log loss of the click logit. Gradients from TF.js autodiff over the ranker's
 * forward (forward.ts blocks + {@link clickLogits}) with respect to the gathered item rows and every dense and
 * MLP weight, read back once; sparse updates of the item table's touched rows on the host.
 */
class BstStepper {
  private readonly optTable: OptimizedParameter;
  private readonly optDense: OptimizedParameter[];
  private readonly optMlp: OptimizedParameter[];
  private readonly tableGrad: RowGradientAccumulator;
  private steps = 0;

  constructor(private readonly p: BstRankerParams, private readonly data: BstTrainingData, private readonly sampler: PopularitySampler, private readonly rng: Rng) {
    const c = p.config;
    const o: OptimizerOptions = { ...defaultOptimizerOptions, name: c.optimizer, learningRate: c.learningRate };
    this.optTable = new OptimizedParameter(p.block.itemTable, o);
    this.optDense = p.block.dense.map((w) => new OptimizedParameter(w.values, o));
    this.optMlp = mlpWeights(p).map((w) => new OptimizedParameter(w.values, o));
    this.tableGrad = new RowGradientAccumulator(p.itemCount, c.hiddenSize, c.batchSize * (c.negatives + 1) * (c.maxLength + 1));
  }

  /** One step (backends with sync reads only); returns the mean log loss. */
  step(batch: readonly Prefix[], first?: FirstStage, hardShare = 0): number {
    assertSyncReads('BstStepper.step', 'stepAsync');
    const s = this.prepare(batch, first, hardShare);
    return this.apply(s, readSync(() => this.lossAndGradients(s)));
  }

  /** {@link step} reading with `await data()`: every backend. */
  async stepAsync(batch: readonly Prefix[], first?: FirstStage, hardShare = 0): Promise<number> {
    const s = this.prepare(batch, first, hardShare);
    return this.apply(s, await readAsync(() => this.lossAndGradients(s)));
  }

  private prepare(batch: readonly Prefix[], first: FirstStage | undefined, hardShare: number): BstStepInputs {
    const { p, data } = this;
    const c = p.config, d = c.hiddenSize, K = c.negatives;
    const windows: Int32Array[] = [];
    const gaps: (number | undefined)[][] = [];
    const labels: number[] = [];
    const draw = new Int32Array(1);
    const hard = first?.top;
    const hardM = hard ? hard.length / batch.length : 0;
    const features: number[] = [];
    batch.forEach((pr, bi) => {
      const target = data.items[pr.end]!;
      const newest = data.times?.[pr.end - 1];
      const g = Array.from({ length: pr.end - pr.start + 1 }, (_, t) => (t < pr.end - pr.start && data.times && newest !== undefined ? newest - data.times[pr.start + t]! : undefined));
      for (let k = 0; k <= K; k++) {
        let cand = target;
        const fromHard = hard && k > 0 && this.rng.next() < hardShare;
        if (k > 0) {
          for (let tries = 0; tries < 5 && cand === target; tries++) {
            if (fromHard) cand = hard[bi * hardM + this.rng.int(hardM)]!;
            else { this.sampler.sample(this.rng, draw); cand = draw[0]!; }
          }
        }
        const w = new Int32Array(pr.end - pr.start + 1);
        w.set(data.items.subarray(pr.start, pr.end));
        w[w.length - 1] = cand;
        windows.push(w);
        gaps.push(g);
        labels.push(k === 0 || cand === target ? 1 : 0);
        if (c.useCandidateScore && first) {
          const row = bi * first.itemCount;
          features.push(first.scores[row + cand]! - first.scores[row + first.top[bi * hardM]!]!);
        }
      }
    });
    const S = windows.length;
    const T = windows.reduce((m, w) => Math.max(m, w.length), 0);
    this.steps++;
    const inputItems = new Int32Array(S * T).fill(-1);
    windows.forEach((w, s) => inputItems.set(w, s * T));
    const buckets = windowBuckets(gaps, T, c.timeBuckets);
    return {
      S, T, inputItems, labels: Float32Array.from(labels), positions: windowPositions(windows.map((w) => w.length), T), ...(buckets ? { buckets } : {}),
      candidateRows: Int32Array.from(windows, (w, s) => s * T + w.length - 1), lastRows: Int32Array.from(windows, (w, s) => s * T + w.length - 2),
      ...(c.useCandidateScore ? { features: Float32Array.from(features) } : {}),
      dropEmbedding: dropoutMask(this.rng, S * T * d, c.dropout),
      dropHidden: Array.from({ length: p.block.config.blocks }, () => ({ attention: dropoutMask(this.rng, S * T * d, c.dropout), feedForward: dropoutMask(this.rng, S * T * d, c.dropout) })),
    };
  }

  /** `[mean log loss, d/d(input rows), d/d(each block weight), d/d(each MLP weight)]` in one tensor. */
  private lossAndGradients(s: BstStepInputs): tf.Tensor {
    const { p } = this;
    const bp = p.block, c = bp.config, d = c.hiddenSize, R = s.S * s.T;
    const rows = new Float32Array(R * d);
    for (let r = 0; r < R; r++) if (s.inputItems[r]! >= 0) rows.set(bp.itemTable.subarray(s.inputItems[r]! * d, (s.inputItems[r]! + 1) * d), r * d);
    const blockNames = bp.dense.map((w) => w.name), mlpNames = mlpWeights(p).map((w) => w.name);
    const leaves = [tf.tensor2d(rows, [R, d]), ...bp.dense.map((w) => tf.tensor(w.values, w.shape, 'float32')), ...mlpWeights(p).map((w) => tf.tensor(w.values, w.shape, 'float32'))];
    const dropEmbedding = tf.tensor2d(s.dropEmbedding, [R, d]);
    const dropHidden: BlockDropout[] = s.dropHidden.map((m) => ({ attention: tf.tensor2d(m.attention, [R, d]), feedForward: tf.tensor2d(m.feedForward, [R, d]) }));
    const f = (...all: tf.Tensor[]): tf.Scalar => {
      const [items, ...weights] = all as [tf.Tensor2D, ...tf.Tensor[]];
      const w = new Map(blockNames.map((n, i) => [n, weights[i]!]));
      const mlp = new Map(mlpNames.map((n, i) => [n, weights[blockNames.length + i]!]));
      const enc = encode(w, c, embed(w, items, s.positions, s.buckets, dropEmbedding), windowAttention(c, s.S, s.T), dropHidden);
      const z = clickLogits(p, mlp, gatherRows(enc.hidden, tf.tensor1d(s.candidateRows, 'int32')), gatherRows(enc.hidden, tf.tensor1d(s.lastRows, 'int32')), s.features ? tf.tensor1d(s.features) : undefined);
      // Log loss of the click logit: softplus(z) − z·y.
      return tf.div(tf.sum(tf.sub(tf.softplus(z), tf.mul(z, s.labels))), s.S);
    };
    const { value, grads } = tf.valueAndGrads(f)(leaves);
    return tf.concat([tf.reshape(value, [1]), ...grads.map((g) => tf.reshape(g, [-1]))]);
  }

  private apply(s: BstStepInputs, read: Float32Array): number {
    const { p } = this;
    const d = p.config.hiddenSize;
    let at = 1;
    const take = (n: number) => read.subarray(at, (at += n));
    const dRows = take(s.S * s.T * d);
    this.tableGrad.clear();
    for (let r = 0; r < s.inputItems.length; r++) if (s.inputItems[r]! >= 0) this.tableGrad.add(s.inputItems[r]!, dRows, r * d);
    const step = this.steps;
    p.block.dense.forEach((w, i) => this.optDense[i]!.updateDense(take(w.values.length), step));
    mlpWeights(p).forEach((w, i) => this.optMlp[i]!.updateDense(take(w.values.length), step));
    this.optTable.updateRows(this.tableGrad.rows, this.tableGrad.count, this.tableGrad.grad, d, step);
    return read[0]!;
  }
}

/** What one BST step uploads, built on the host. */
interface BstStepInputs {
  readonly S: number;
  readonly T: number;
  /** Item of every window row (−1 for padding). */
  readonly inputItems: Int32Array;
  readonly labels: Float32Array;
  readonly positions: Int32Array;
  readonly buckets?: Int32Array;
  readonly candidateRows: Int32Array;
  readonly lastRows: Int32Array;
  readonly features?: Float32Array;
  readonly dropEmbedding: Float32Array;
  readonly dropHidden: { attention: Float32Array; feedForward: Float32Array }[];
}

/** The MLP layers and the score weight (when used), in {@link BstRankerParams.named} order. */
function mlpWeights(p: BstRankerParams): NamedWeight[] {
  return p.named().filter((w) => w.name.startsWith('mlp_') || w.name === 'score_weight');
}
