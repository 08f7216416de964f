export { tf } from './tf.js';
export { selectBackend, selectedBackend, backendEvents, overrideBackendLoader, BackendNames } from './select-backend.js';
export type { BackendName, BackendOptions, BackendSelection, BackendAttempt, BackendEvents } from './select-backend.js';
export { gatherRows } from './gather.js';
export { memoryIOHandler, fileIOHandler, saveWeights, loadWeights, WEIGHTS_MANIFEST_FILE, WEIGHTS_SHARD_FILE } from './weights-io.js';
