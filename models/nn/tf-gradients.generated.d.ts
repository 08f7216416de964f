// Declaration for the bundle written by scripts/bundle-tf-gradients.mjs (registers tfjs-core's op gradients).
export {};
