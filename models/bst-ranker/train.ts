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
import { trainBackwardReading, trainForwardReading, type MaskFactory } from '../transformer/backprop.js';
import { timeBucket } from '../transformer/config.js';
import { embedWindows } from '../transformer/forward.js';
import { mmTAReading, mmTBReading } from '../transformer/linalg.js';
import { assertSyncReads, backendReadsSync, runReadsAsync, runReadsSync, type ReadingComputation } from '../training/matmul.js';
import { resolveBstRankerConfig, type BstRankerConfig } from './config.js';
import { BstRankerParams } from './params.js';
import { mlpForwardReading, mlpInput } from './ranker.js';

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

class BstStepper {
  private readonly optTable: OptimizedParameter;
  private readonly optDense: OptimizedParameter[];
  private readonly optMlp: { w: OptimizedParameter; b: OptimizedParameter }[];
  private readonly tableGrad: RowGradientAccumulator;
  private readonly optScore: OptimizedParameter;
  private steps = 0;

  constructor(private readonly p: BstRankerParams, private readonly data: BstTrainingData, private readonly sampler: PopularitySampler, private readonly rng: Rng) {
    const c = p.config;
    const o: OptimizerOptions = { ...defaultOptimizerOptions, name: c.optimizer, learningRate: c.learningRate };
    this.optTable = new OptimizedParameter(p.block.itemTable, o);
    this.optDense = p.block.dense.map((w) => new OptimizedParameter(w.values, o));
    this.optMlp = p.mlp.map((l) => ({ w: new OptimizedParameter(l.w, o), b: new OptimizedParameter(l.b, o) }));
    this.optScore = new OptimizedParameter(p.scoreWeight, o);
    this.tableGrad = new RowGradientAccumulator(p.itemCount, c.hiddenSize, c.batchSize * (c.negatives + 1) * (c.maxLength + 1));
  }

  /** One step (backends with sync reads only); returns the mean log loss. */
  step(batch: readonly Prefix[], first?: FirstStage, hardShare = 0): number {
    assertSyncReads('BstStepper.step', 'stepAsync');
    return runReadsSync(this.computeStep(batch, first, hardShare));
  }

  /** {@link step} reading every product with `await data()` where needed: every backend. */
  stepAsync(batch: readonly Prefix[], first?: FirstStage, hardShare = 0): Promise<number> {
    return runReadsAsync(this.computeStep(batch, first, hardShare));
  }

  private *computeStep(batch: readonly Prefix[], first: FirstStage | undefined, hardShare: number): ReadingComputation<number> {
    const { p, data } = this;
    const c = p.config, bp = p.block, d = c.hiddenSize, K = c.negatives;
    const windows: Int32Array[] = [];
    const gaps: (number | undefined)[][] = [];
    const labels: number[] = [];
    const draw = new Int32Array(1);
    const hard = first?.top;
    const hardM = hard ? hard.length / batch.length : 0;
    const useScore = c.useCandidateScore;
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
        if (useScore && first) {
          const row = bi * first.itemCount;
          features.push(first.scores[row + cand]! - first.scores[row + first.top[bi * hardM]!]!);
        }
      }
    });
    const S = windows.length;
    const T = windows.reduce((m, w) => Math.max(m, w.length), 0);
    this.steps++;
    const dropEmb = dropoutMask(this.rng, S * T * d, c.dropout);
    const x0 = embedWindows(bp, windows, T, gaps, dropEmb);
    const masks: MaskFactory = (n) => (c.dropout > 0 ? dropoutMask(this.rng, n, c.dropout) : undefined);
    const fwd = yield* trainForwardReading(bp, x0, S, T, masks);
    const width = 3 * d + (useScore ? 1 : 0);
    const z0 = new Float32Array(S * width);
    windows.forEach((w, s) => {
      const n = w.length - 1;
      mlpInput(z0, s, fwd.out, (s * T + n) * d, fwd.out, (s * T + n - 1) * d, d, useScore ? features[s]! : undefined);
    });
    const { logits, acts, pre } = yield* mlpForwardReading(p, z0, S);
    if (useScore) for (let s = 0; s < S; s++) logits[s] = logits[s]! + p.scoreWeight[0]! * features[s]!;
    let loss = 0;
    let dy: Float32Array = new Float32Array(S);
    for (let s = 0; s < S; s++) {
      const z = logits[s]!, y = labels[s]!;
      loss += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
      dy[s] = (1 / (1 + Math.exp(-z)) - y) / S;
    }
    let dScoreWeight = 0;
    if (useScore) for (let s = 0; s < S; s++) dScoreWeight += dy[s]! * features[s]!;
    // MLP backward.
    const mlpGrads: { w: Float32Array; b: Float32Array }[] = [];
    for (let i = p.mlp.length - 1; i >= 0; i--) {
      const l = p.mlp[i]!;
      const gw = yield* mmTAReading(acts[i]!, S, l.inSize, dy, l.outSize);
      const gb = new Float32Array(l.outSize);
      for (let r = 0; r < S; r++) for (let j = 0; j < l.outSize; j++) gb[j] = gb[j]! + dy[r * l.outSize + j]!;
      mlpGrads[i] = { w: gw, b: gb };
      const dIn = yield* mmTBReading(dy, S, l.outSize, l.w, l.inSize);
      if (i > 0) { const pr = pre[i - 1]!; for (let k = 0; k < dIn.length; k++) if (!(pr[k]! > 0)) dIn[k] = dIn[k]! * c.leakySlope; }
      dy = dIn;
    }
    const dOut = new Float32Array(S * T * d);
    windows.forEach((w, s) => {
      const n = w.length - 1;
      const co = (s * T + n) * d, lo = (s * T + n - 1) * d, zo = s * width;
      for (let i = 0; i < d; i++) {
        const dp = dy[zo + 2 * d + i]!;
        dOut[co + i] = dy[zo + i]! + dp * fwd.out[lo + i]!;
        dOut[lo + i] = dOut[lo + i]! + dy[zo + d + i]! + dp * fwd.out[co + i]!;
      }
    });
    const grads = new Map(bp.dense.map((w) => [w.name, new Float32Array(w.values.length)]));
    const dX = yield* trainBackwardReading(bp, fwd, dOut, grads);
    this.tableGrad.clear();
    const dPos = grads.get('position_table')!, dTime = grads.get('time_table');
    windows.forEach((w, s) => {
      for (let t = 0; t < w.length; t++) {
        const o = (s * T + t) * d;
        for (let i = 0; i < d; i++) dX[o + i] = dX[o + i]! * dropEmb[o + i]!;
        this.tableGrad.add(w[t]!, dX, o);
        for (let i = 0; i < d; i++) dPos[t * d + i] = dPos[t * d + i]! + dX[o + i]!;
        if (dTime) { const tb = timeBucket(gaps[s]![t], c.timeBuckets) * d; for (let i = 0; i < d; i++) dTime[tb + i] = dTime[tb + i]! + dX[o + i]!; }
      }
    });
    const step = this.steps;
    bp.dense.forEach((w, i) => this.optDense[i]!.updateDense(grads.get(w.name)!, step));
    this.optTable.updateRows(this.tableGrad.rows, this.tableGrad.count, this.tableGrad.grad, d, step);
    this.optMlp.forEach((o, i) => { o.w.updateDense(mlpGrads[i]!.w, step); o.b.updateDense(mlpGrads[i]!.b, step); });
    if (useScore) this.optScore.updateDense(Float32Array.of(dScoreWeight), step);
    return loss / S;
  }
}
