import { tf } from '../../src/backend/tf.js';
import { matMul } from './dense.js';

/** One GRU layer's weights; gates in the order [reset, update, candidate] along the last axis. */
export interface GruCellWeights {
  /** `[in, 3·size]` */
  readonly kernel: tf.Tensor2D;
  /** `[size, 3·size]` */
  readonly recurrent: tf.Tensor2D;
  /** `[3·size]` */
  readonly bias: tf.Tensor1D;
}

/**
 * One GRU step for a batch: `x` `[B, in]`, previous state `h` `[B, size]` → new state `[B, size]`.
 * The reset gate multiplies the candidate's recurrent product after the product (GRU4Rec's and Keras'
 * `reset_after` form), so the input and recurrent products are each one matMul for all three gates.
 */
export function gruCell(x: tf.Tensor2D, h: tf.Tensor2D, w: GruCellWeights): tf.Tensor2D {
  return tf.tidy(() => {
    const a = tf.add(matMul(x, w.kernel), w.bias);
    const c = matMul(h, w.recurrent);
    const [ar, az, an] = tf.split(a, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const [cr, cz, cn] = tf.split(c, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const r = tf.sigmoid(tf.add(ar, cr));
    const z = tf.sigmoid(tf.add(az, cz));
    const n = tf.tanh(tf.add(an, tf.mul(r, cn)));
    return tf.add(n, tf.mul(z, tf.sub(h, n)));
  });
}
