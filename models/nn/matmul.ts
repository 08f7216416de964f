import { tf } from '../../src/backend/tf.js';

/**
 * `a · b` whose gradient multiplies by explicitly transposed operands (`dy · transpose(b)`, `transpose(a) · dy`).
 * TF.js's own MatMul gradient uses matMul with a transposed operand, which is 8–12× slower on the wasm backend
 * (bench: a 128×2176 by 2176×100 product 138 ms with transposeB against 11 ms plain).
 */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMulOp(a, b) as tf.Tensor2D;
}

const matMulOp = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * Scores of `h` `[rows, d]` against item columns given twice by the caller: `columnsT` `[d, cols]` (the
 * differentiable operand) and the same matrix as rows `columns` `[cols, d]`, so that neither the product nor its
 * gradient transposes a large matrix on the backend. Gradients: `dy · columns` for h, `transpose(h) · dy` for
 * `columnsT`.
 */
export function scoreColumns(h: tf.Tensor2D, columnsT: tf.Tensor2D, columns: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad(((x: tf.Tensor2D, wT: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: tf.matMul(x, wT),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor2D, columns), tf.matMul(tf.transpose(saved[0] as tf.Tensor2D), dy as tf.Tensor2D)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(h, columnsT) as tf.Tensor2D;
}
