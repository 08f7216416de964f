// TF.js autodiff needs each op's gradient registered; tfjs-core's Node bundle registers none. Importing this
// module registers all of tfjs-core's (bundled by scripts/bundle-tf-gradients.mjs at build time).
// tfjs-core first: the bundle carries its own copy of tfjs-core's Tensor class and registers it as the global
// tensor class when it loads first, and then tensors are not `tf.Tensor` instances (spies and instanceof miss).
export { tf } from '../../src/backend/tf.js';
import './tf-gradients.generated.js';
