// The one place in src/ that imports TensorFlow.js. Models import `tf` from here so they share one instance
// (and one registered backend) with the SDK.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the union package does); custom training ops need them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';

export { tf };
