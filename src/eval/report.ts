import type { EvaluationResult } from './replay-evaluator.js';

const pct = (x: number) => x.toFixed(4);

/** A text table of one evaluation: one row per cut-off, plus the counts and throughput. */
export function formatEvaluation(r: EvaluationResult): string {
  const lines: string[] = [];
  lines.push(`model ${r.model}: ${r.events} events in ${r.sessions} sessions, ${r.predictions} predictions` +
    ` (skipped ${r.skippedOovTargets} with unknown target, ${r.unscored} unscored), ${r.itemCount} items, tie policy ${r.tiePolicy}`);
  lines.push(`${'K'.padStart(4)}  ${'HR@K'.padStart(8)}  ${'MRR@K'.padStart(8)}  ${'NDCG@K'.padStart(8)}  ${'Coverage'.padStart(8)}`);
  for (const c of r.cutoffs) {
    lines.push(`${String(c.k).padStart(4)}  ${pct(c.hitRate).padStart(8)}  ${pct(c.mrr).padStart(8)}  ${pct(c.ndcg).padStart(8)}  ${pct(c.coverage).padStart(8)}`);
  }
  if (r.averagePopularityPercentile !== undefined) {
    lines.push(`popularity of recommended items: mean percentile ${r.averagePopularityPercentile.toFixed(3)}, mean training clicks ${r.averagePopularity!.toFixed(1)}`);
  }
  lines.push(`repeat share: ${(100 * r.repeatShare).toFixed(1)}% of predicted next items were already in the session` +
    r.repeatSplit.map((g) => `; HR@${g.cutoffs.at(-1)!.k} ${g.label} ${pct(g.cutoffs.at(-1)!.hitRate)}`).join(''));
  if (r.latency) {
    const l = r.latency;
    lines.push(`serving latency per event: mean ${l.meanMs.toFixed(3)} ms, p50 ${l.p50Ms.toFixed(3)}, p90 ${l.p90Ms.toFixed(3)}, p99 ${l.p99Ms.toFixed(3)}, max ${l.maxMs.toFixed(3)} ms (ranks from the served top-${r.cutoffs.at(-1)!.k} list)`);
  }
  lines.push(`${Math.round(r.eventsPerSecond)} events/s (${r.seconds.toFixed(2)} s)`);
  return lines.join('\n') + '\n';
}

/** A comparison table of several evaluations at cut-off `k` (one row per model). */
export function formatComparison(results: readonly EvaluationResult[], k = 20): string {
  const head = ['model', `HR@${k}`, `MRR@${k}`, `NDCG@${k}`, `Cov@${k}`, 'Pop%ile', 'preds', 'events/s'];
  const rows = results.map((r) => {
    const c = r.cutoffs.find((x) => x.k === k) ?? r.cutoffs[r.cutoffs.length - 1]!;
    return [r.model, pct(c.hitRate), pct(c.mrr), pct(c.ndcg), pct(c.coverage), r.averagePopularityPercentile?.toFixed(3) ?? '-', String(r.predictions), String(Math.round(r.eventsPerSecond))];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n') + '\n';
}
