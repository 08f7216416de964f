export { MetricAccumulator, popularityPercentiles, DEFAULT_CUTOFFS, type CutoffMetrics } from './metrics.js';
export { evaluateReplay, type ReplayEvaluationOptions, type EvaluationResult } from './replay-evaluator.js';
export { evaluateServing, type ServingEvaluationOptions } from './serving-evaluator.js';
export { PredictionRecorder, PREFIX_BUCKETS, type GroupMetrics } from './prediction-recorder.js';
export { LatencyRecorder, type LatencySummary } from './latency.js';
export { fingerprintFile, type DataFingerprint } from './data-fingerprint.js';
export { renderHtmlReport, type HtmlReportInput } from './html-report.js';
export { formatEvaluation, formatComparison } from './report.js';
