// The next-item accuracy check lives in src/eval (tune validates baselines with it too); models import it from here.
export { evaluateNextItem, type EvaluateOptions, type NextItemMetrics } from '../../src/eval/next-item-accuracy.js';
