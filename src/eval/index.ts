export { MetricAccumulator, popularityPercentiles, DEFAULT_CUTOFFS, type CutoffMetrics } from './metrics.js';
export { evaluateReplay, type ReplayEvaluationOptions, type EvaluationResult } from './replay-evaluator.js';
export { formatEvaluation, formatComparison } from './report.js';
