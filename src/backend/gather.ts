import { tf } from './tf.js';

/**
 * `tf.gather(table, ids)` along axis 0 whose gradient scatters with `tf.scatterND` instead of
 * UnsortedSegmentSum, which the wasm backend lacks (and which takes ~90 s on a 50k table on cpu).
 * scatterND sums updates for repeated ids, so duplicate ids in a batch accumulate their gradients.
 */
export function gatherRows(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const shape = table.shape;
  const op = tf.customGrad(((...args: unknown[]) => {
    const t = args[0] as tf.Tensor;
    const i = args[1] as tf.Tensor;
    const save = args[2] as tf.GradSaveFunc;
    save([i]);
    return {
      value: tf.gather(t, i as tf.Tensor1D),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const idx = saved[0]!;
        const upd = Array.isArray(dy) ? dy[0]! : dy;
        return [tf.scatterND(tf.expandDims(tf.cast(idx, 'int32'), 1), upd, shape), tf.zerosLike(idx)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(table, ids) as tf.Tensor2D;
}
