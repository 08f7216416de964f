// TF.js autodiff needs each op's gradient registered; tfjs-core's Node bundle registers none. Importing this
// module registers all of tfjs-core's (bundled by scripts/bundle-tf-gradients.mjs at build time). tfjs-core is
// imported first so that its engine is the one global engine the bundle's copies then find and use.
import { tf } from '../../src/backend/tf.js';
import './tf-gradients.generated.js';

export { tf };
