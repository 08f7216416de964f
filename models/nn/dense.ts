import { tf } from './gradients.js';

/**
 * `a [m, k] × b [k, n]` whose gradient multiplies explicitly transposed operands (`dA = dY · transpose(b)`,
 * `dB = transpose(a) · dY`): TF.js's own MatMul gradient uses a transposed-operand matMul, which is 8–11×
 * slower on wasm than transposing first. Finite-difference test: test/models/nn/layers.test.ts.
 */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return plainMatMul(a, b) as tf.Tensor2D;
}

const plainMatMul = tf.customGrad(((...args: unknown[]) => {
  const a = args[0] as tf.Tensor2D, b = args[1] as tf.Tensor2D, save = args[2] as tf.GradSaveFunc;
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = (Array.isArray(dy) ? dy[0]! : dy) as tf.Tensor2D;
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(g, tf.transpose(sb)), tf.matMul(tf.transpose(sa), g)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** Affine layer `x · w + b` for `x [rows, in]`, `w [in, out]`, `b [out]`. */
export function dense(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.add(matMul(x, w as tf.Tensor2D), b);
}

/** `x` times a dropout keep-multiplier mask of its shape (training), or `x` itself without one. */
export function dropout<T extends tf.Tensor>(x: T, mask: tf.Tensor | undefined): T {
  return mask ? tf.mul(x, mask) : x;
}

/**
 * Scores of `h` `[rows, d]` against item rows `[cols, d]` → `[rows, cols]`, differentiable in both. The forward
 * is `(items · hᵀ)ᵀ` and the items' gradient `dyᵀ · h`: on wasm (XNNPACK) a product packs its right operand
 * afresh for every new tensor (about 2 ms for a [101 × 2,176] one on this VM, against about 0.5 ms to
 * transpose the [128 × 2,176] scores), so only h's gradient `dy · items` packs the sampled rows.
 */
export function scoreRows(h: tf.Tensor2D, items: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: tf.transpose(tf.matMul(w, tf.transpose(x))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy as tf.Tensor2D, sw), tf.matMul(tf.transpose(dy as tf.Tensor2D), sx)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(h, items) as tf.Tensor2D;
}
