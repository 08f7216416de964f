// TF.js autodiff needs each op's gradient registered; tfjs-core's Node bundle registers none. Importing this
// module registers all of tfjs-core's (bundled by scripts/bundle-tf-gradients.mjs at build time).
import './tf-gradients.generated.js';
export { tf } from '../../src/backend/tf.js';
