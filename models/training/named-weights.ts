import { ModelFormatError } from '../../src/errors.js';

/** A parameter array with its saved name and shape (the unit of the TF.js weights format). */
export interface NamedWeight {
  readonly name: string;
  readonly shape: number[];
  readonly values: Float32Array;
}

/**
 * Copies loaded weights into a model's freshly allocated parameters, refusing a missing weight or one whose
 * shape disagrees with what the config and vocabulary imply (a corrupt or mismatched model directory).
 */
export function copyNamedWeights(target: readonly NamedWeight[], weights: ReadonlyMap<string, { shape: number[]; values: Float32Array }>): void {
  for (const w of target) {
    const got = weights.get(w.name);
    if (!got) throw new ModelFormatError(`weights are missing "${w.name}"`);
    if (got.shape.length !== w.shape.length || got.shape.some((s, i) => s !== w.shape[i])) {
      throw new ModelFormatError(`weight "${w.name}" has shape [${got.shape.join(', ')}], expected [${w.shape.join(', ')}] from the config and vocabulary`);
    }
    w.values.set(got.values);
  }
}
