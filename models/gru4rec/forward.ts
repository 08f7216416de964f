import { tf } from '../../src/backend/tf.js';
import { gruCell, type GruCellWeights } from '../nn/gru.js';

/** Dropout multipliers (0 or 1/(1−rate)) for one training step: the input embedding and each layer's output. */
export interface Gru4RecDropout {
  readonly input: tf.Tensor2D;
  readonly layers: readonly tf.Tensor2D[];
}

/** The result of one GRU4Rec step: every layer's new state, and the last layer's output (after dropout). */
export interface Gru4RecStepOutput {
  readonly states: tf.Tensor2D[];
  readonly output: tf.Tensor2D;
}

/**
 * GRU4Rec's one forward, used by training (with dropout) and by serving (without): the input item
 * embeddings `x` `[B, e]` and each layer's previous state `[B, size]` → new states and the session vector
 * that is scored against the item table.
 */
export function gru4recStep(x: tf.Tensor2D, states: readonly tf.Tensor2D[], layers: readonly GruCellWeights[], dropout?: Gru4RecDropout): Gru4RecStepOutput {
  let input: tf.Tensor2D = dropout ? (tf.mul(x, dropout.input) as tf.Tensor2D) : x;
  const next: tf.Tensor2D[] = [];
  layers.forEach((w, i) => {
    const h = gruCell(input, states[i]!, w);
    next.push(h);
    input = dropout ? tf.mul(h, dropout.layers[i]!) as tf.Tensor2D : h;
  });
  return { states: next, output: input };
}
