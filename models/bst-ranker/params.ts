import { ModelFormatError } from '../../src/errors.js';
import { Rng } from '../training/rng.js';
import type { NamedWeight } from '../transformer/params.js';
import { TransformerParams } from '../transformer/params.js';
import { blockConfig, resolveBstRankerConfig, type BstRankerConfig } from './config.js';

/** BST ranker weights: the transformer block part (item table, positions, time gaps, block) and the MLP. */
export class BstRankerParams {
  readonly block: TransformerParams;
  /** MLP layers `[in, out]` + bias, the last one with one output (the click logit). */
  readonly mlp: { w: Float32Array; b: Float32Array; inSize: number; outSize: number }[];

  /**
   * Weight of the first-stage score feature added straight to the logit (a skip connection, starting at 1
   * with a zero last MLP layer: an untrained ranker keeps the first stage's order and learns corrections).
   */
  readonly scoreWeight = new Float32Array(1);

  constructor(readonly config: BstRankerConfig, readonly itemCount: number) {
    this.block = new TransformerParams(blockConfig(config), itemCount);
    const sizes = [3 * config.hiddenSize + (config.useCandidateScore ? 1 : 0), ...config.mlp, 1];
    this.mlp = sizes.slice(1).map((out, i) => ({ w: new Float32Array(sizes[i]! * out), b: new Float32Array(out), inSize: sizes[i]!, outSize: out }));
  }

  static fromConfig(config: Partial<BstRankerConfig>, itemCount: number): BstRankerParams {
    const c = resolveBstRankerConfig(config);
    const p = new BstRankerParams(c, itemCount);
    p.initialize(new Rng(c.seed));
    return p;
  }

  getConfig(): BstRankerConfig {
    return { ...this.config, mlp: [...this.config.mlp] };
  }

  initialize(rng: Rng): void {
    this.block.initialize(rng);
    for (const l of this.mlp) rng.fillUniform(l.w, Math.sqrt(6 / (l.inSize + l.outSize)));
    if (this.config.useCandidateScore) {
      this.scoreWeight[0] = 1;
      this.mlp[this.mlp.length - 1]!.w.fill(0);
    }
  }

  named(): NamedWeight[] {
    return [
      ...this.block.named().filter((w) => w.name !== 'output_bias'),
      ...this.mlp.flatMap((l, i) => [
        { name: `mlp_${i}/kernel`, shape: [l.inSize, l.outSize], values: l.w },
        { name: `mlp_${i}/bias`, shape: [l.outSize], values: l.b },
      ]),
      ...(this.config.useCandidateScore ? [{ name: 'score_weight', shape: [1], values: this.scoreWeight }] : []),
    ];
  }

  static fromNamed(config: BstRankerConfig, itemCount: number, weights: Map<string, { shape: number[]; values: Float32Array }>): BstRankerParams {
    const p = new BstRankerParams(config, itemCount);
    for (const w of p.named()) {
      const got = weights.get(w.name);
      if (!got) throw new ModelFormatError(`weights are missing "${w.name}"`);
      if (got.shape.length !== w.shape.length || got.shape.some((s, i) => s !== w.shape[i])) throw new ModelFormatError(`weight "${w.name}" has shape [${got.shape.join(', ')}], expected [${w.shape.join(', ')}]`);
      w.values.set(got.values);
    }
    return p;
  }
}
