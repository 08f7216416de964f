import { expect } from 'vitest';
import { splitValidation, type SessionRows } from '../../src/data/validation-split.js';
import type { ValidationPass } from '../../models/training/epoch-loop.js';

interface Trained {
  readonly validationPass?: ValidationPass;
  readonly epochs: readonly { readonly validation?: unknown }[];
}

/**
 * The `trainOnValidation` contract, the same for every neural trainer: with it, training ends with one pass over
 * exactly the held-out sessions' predictions, the epochs (and their validation figures) are those of the run
 * without it, the pass changes the weights, and explicit validation sessions (not the newest of the log) get no pass.
 * `train(on, validation)` trains with `trainOnValidation: on`, the hold-out `fraction` / `maxPredictions`, and
 * the given explicit validation sessions.
 */
export async function expectValidationPass<R extends Trained>(corpus: SessionRows, fraction: number, maxPredictions: number, explicit: SessionRows, train: (on: boolean, validation?: SessionRows) => Promise<R>, weights: (r: R) => Float32Array): Promise<void> {
  const without = await train(false);
  const withPass = await train(true);
  const held = splitValidation(corpus, fraction, maxPredictions).validation!;
  let predictions = 0;
  for (let s = 0; s + 1 < held.offsets.length; s++) predictions += held.offsets[s + 1]! - held.offsets[s]! - 1;
  expect(without.validationPass).toBeUndefined();
  expect(withPass.validationPass?.events).toBe(predictions);
  expect(withPass.epochs.map((e) => e.validation)).toEqual(without.epochs.map((e) => e.validation));
  expect(Array.from(weights(withPass))).not.toEqual(Array.from(weights(without)));
  expect((await train(true, explicit)).validationPass).toBeUndefined();
}
