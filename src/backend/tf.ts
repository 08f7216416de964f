// The one place in src/ that imports TensorFlow.js. Models import `tf` from here so they share one instance
// (and one registered backend) with the SDK. Note: tfjs-core's Node bundle registers no op gradients (the
// union package does, and its ESM file cannot be imported from Node); nextclick's training computes its own
// gradients, and tf.customGrad ops (gatherRows) carry theirs.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export { tf };
