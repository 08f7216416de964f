import type { DataFingerprint } from './data-fingerprint.js';
import { barChart, escapeXml, lineChart, seriesColour, type ChartSeries } from './html-report-charts.js';
import type { EvaluationResult } from './replay-evaluator.js';

/** What {@link renderHtmlReport} shows. */
export interface HtmlReportInput {
  /** Page title. @defaultValue 'nextclick replay report' */
  readonly title?: string;
  /** The command line that produced the results, shown verbatim. */
  readonly command: string;
  /** Fingerprints of the data files (train, test...). */
  readonly data: readonly DataFingerprint[];
  /** One result per model, all on the same test data; shown side by side in this order. */
  readonly results: readonly EvaluationResult[];
  /** When the report was made. @defaultValue now */
  readonly generatedAt?: Date;
  /** Extra lines shown under the command (e.g. training parameters). */
  readonly notes?: readonly string[];
}

/** The reports' style sheet (the replay report and the tuning report look alike). */
export const REPORT_STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1180px;color:#222;background:#fafafa;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
pre{background:#fff;border:1px solid #ddd;padding:8px;white-space:pre-wrap;word-break:break-all;font-size:13px}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}figure{margin:0;background:#fff;border:1px solid #ddd}
svg{display:block;max-width:100%;height:auto;font-family:inherit}svg .title{font-size:14px;font-weight:600}svg .tick{font-size:11px;fill:#555}svg .axis{font-size:12px;fill:#333}svg .legend{font-size:12px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;vertical-align:baseline}.note{color:#555;font-size:13px}.meta{color:#666;font-size:13px}
`;

const f4 = (v: number) => v.toFixed(4);
const f3 = (v: number) => v.toFixed(3);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const int = (v: number) => Math.round(v).toLocaleString('en-US');

/** The cut-off the per-group charts use: 20 when evaluated, else the largest. */
function headlineK(results: readonly EvaluationResult[]): number {
  const ks = results[0]?.cutoffs.map((c) => c.k) ?? [20];
  return ks.includes(20) ? 20 : ks[ks.length - 1]!;
}

function table(head: readonly string[], rows: readonly (readonly string[])[], numericFrom = 1): string {
  const th = head.map((h, i) => `<th${i >= numericFrom ? ' class="n"' : ''}>${escapeXml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

function modelCell(name: string, i: number): string {
  return `<span class="swatch" style="background:${seriesColour(i)}"></span>${escapeXml(name)}`;
}

/** Union of group labels over results, in first-seen order (buckets without predictions are absent per result). */
function groupLabels(results: readonly EvaluationResult[], pick: (r: EvaluationResult) => readonly { label: string }[]): string[] {
  const out: string[] = [];
  for (const r of results) for (const g of pick(r)) if (!out.includes(g.label)) out.push(g.label);
  return out;
}

function groupSeries(results: readonly EvaluationResult[], labels: readonly string[], pick: (r: EvaluationResult) => EvaluationResult['prefixLengths'], k: number, metric: 'hitRate' | 'mrr'): ChartSeries[] {
  return results.map((r) => ({
    name: r.model,
    values: labels.map((l) => {
      const g = pick(r).find((x) => x.label === l);
      const c = g?.cutoffs.find((x) => x.k === k);
      return c ? c[metric] : Number.NaN;
    }),
  }));
}

function latencySection(results: readonly EvaluationResult[]): string {
  const timed = results.filter((r) => r.latency !== undefined);
  if (timed.length === 0) {
    return '<section><h2>Latency</h2><p class="note">Latency was not measured: run <code>nextclick evaluate --serving</code> to replay through the serving path and time each event.</p></section>';
  }
  const edges = timed[0]!.latency!.histogram.edgesMs;
  let lo = edges.length;
  let hi = -1;
  for (const r of timed) {
    r.latency!.histogram.counts.forEach((c, i) => {
      if (c > 0) { lo = Math.min(lo, i); hi = Math.max(hi, i); }
    });
  }
  if (hi < lo) { lo = 0; hi = 0; }
  const bins = Array.from({ length: hi - lo + 1 }, (_, j) => lo + j);
  const labels = bins.map((b) => (b === edges.length - 1 ? `≥${String(edges[b])}` : String(edges[b])));
  const chart = barChart({
    title: 'Latency per event (share of events per bin)',
    categories: labels,
    series: timed.map((r) => ({ name: r.model, values: bins.map((b) => r.latency!.histogram.counts[b]! / Math.max(1, r.latency!.events)) })),
    xLabel: 'milliseconds from push to recommendation (bin lower edge, log scale)',
    yLabel: 'share of events',
    format: pct,
  });
  const rows = timed.map((r) => {
    const l = r.latency!;
    return [modelCell(r.model, results.indexOf(r)), int(l.events), ms(l.meanMs), ms(l.p50Ms), ms(l.p90Ms), ms(l.p99Ms), ms(l.maxMs), int(r.eventsPerSecond)];
  });
  return `<section><h2>Latency (serving path)</h2><div class="charts"><figure>${chart}</figure></div>` +
    table(['model', 'events', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'events/s'], rows) + '</section>';
}

/**
 * Renders evaluation results as one self-contained HTML page: no scripts, no network, no external fonts;
 * charts are inline SVG. Shows HR/MRR/NDCG by K, metrics by prefix length, coverage and popularity, repeat
 * and new targets, the serving latency histogram when measured, the command and the data fingerprints.
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  const results = input.results;
  const title = input.title ?? 'nextclick replay report';
  const when = (input.generatedAt ?? new Date()).toISOString();
  const ks = results[0]?.cutoffs.map((c) => c.k) ?? [];
  const categories = ks.map(String);
  const byK = (metric: 'hitRate' | 'mrr' | 'ndcg' | 'coverage'): ChartSeries[] =>
    results.map((r) => ({ name: r.model, values: ks.map((k) => r.cutoffs.find((c) => c.k === k)?.[metric] ?? Number.NaN) }));
  const K = headlineK(results);
  const prefixLabels = groupLabels(results, (r) => r.prefixLengths);
  const repeatLabels = groupLabels(results, (r) => r.repeatSplit);

  const charts = [
    lineChart({ title: 'Hit rate by cut-off', categories, series: byK('hitRate'), xLabel: 'K', yLabel: 'HR@K' }),
    lineChart({ title: 'MRR by cut-off', categories, series: byK('mrr'), xLabel: 'K', yLabel: 'MRR@K' }),
    lineChart({ title: 'NDCG by cut-off', categories, series: byK('ndcg'), xLabel: 'K', yLabel: 'NDCG@K' }),
    lineChart({ title: 'Catalogue coverage by cut-off', categories, series: byK('coverage'), xLabel: 'K', yLabel: 'coverage', format: pct }),
    barChart({ title: `HR@${K} by prefix length`, categories: prefixLabels, series: groupSeries(results, prefixLabels, (r) => r.prefixLengths, K, 'hitRate'), xLabel: 'events of the session so far', yLabel: `HR@${K}` }),
    barChart({ title: `MRR@${K} by prefix length`, categories: prefixLabels, series: groupSeries(results, prefixLabels, (r) => r.prefixLengths, K, 'mrr'), xLabel: 'events of the session so far', yLabel: `MRR@${K}` }),
    barChart({ title: `HR@${K}: repeat and new targets`, categories: repeatLabels.map((l) => (l === 'repeat' ? 'next item already in session' : 'new item')), series: groupSeries(results, repeatLabels, (r) => r.repeatSplit, K, 'hitRate'), xLabel: 'kind of next item', yLabel: `HR@${K}` }),
    barChart({ title: 'Popularity of recommended items', categories: ['mean popularity percentile'], series: results.map((r) => ({ name: r.model, values: [r.averagePopularityPercentile ?? Number.NaN] })), xLabel: '0 = least, 1 = most popular training item (needs --train)', yLabel: 'percentile', yMax: 1 }),
  ];

  const summaryRows = results.map((r, i) => {
    const c = r.cutoffs.find((x) => x.k === K) ?? r.cutoffs[r.cutoffs.length - 1]!;
    return [modelCell(r.model, i), r.mode, int(r.predictions), f4(c.hitRate), f4(c.mrr), f4(c.ndcg), pct(c.coverage),
      r.averagePopularityPercentile !== undefined ? f3(r.averagePopularityPercentile) : '–', int(r.eventsPerSecond)];
  });
  const fullRows: string[][] = [];
  results.forEach((r, i) => {
    for (const c of r.cutoffs) fullRows.push([modelCell(r.model, i), String(c.k), f4(c.hitRate), f4(c.mrr), f4(c.ndcg), pct(c.coverage)]);
  });
  const prefixRows = prefixLabels.map((l) => [escapeXml(l), ...results.map((r) => {
    const g = r.prefixLengths.find((x) => x.label === l);
    return g ? int(g.predictions) : '0';
  })]);
  const dataRows = input.data.map((d) => [escapeXml(d.role), escapeXml(d.name), int(d.bytes), `<code>${escapeXml(d.sha256)}</code>`,
    d.events !== undefined ? int(d.events) : '–', d.sessions !== undefined ? int(d.sessions) : '–']);
  const first = results[0];
  const counts = first
    ? `<p>Test log: ${int(first.events)} events in ${int(first.sessions)} sessions, ${int(first.predictions)} next-item predictions ` +
      `(${int(first.skippedOovTargets)} skipped: target unknown to the model; ${int(first.unscored)} counted as misses: no known item yet), ` +
      `${int(first.itemCount)} items in the catalogue. <strong>Repeat share: ${pct(first.repeatShare)}</strong> of the predicted next items were already in the session.</p>`
    : '<p>No results.</p>';
  const modeNote = results.some((r) => r.mode === 'serving')
    ? '<p class="note">Serving rows replay through the serving path (micro-batching, the model\'s own top-K such as ANN candidates); their ranks come from the served list, ties in list order. Replay rows rank the target against every item from the full score row (tie policy: ' +
      escapeXml(String(results.find((r) => r.mode === 'replay')?.tiePolicy ?? 'conservative')) + ').</p>'
    : `<p class="note">Each prediction ranks the target against every item from the model's full score row; tie policy ${escapeXml(String(first?.tiePolicy ?? 'conservative'))}.</p>`;

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${REPORT_STYLE}</style></head><body>
<h1>${escapeXml(title)}</h1>
<p class="meta">Generated ${escapeXml(when)} by nextclick. Self-contained: no scripts, no network.</p>
<section><h2>Command</h2><pre>${escapeXml(input.command)}</pre>${(input.notes ?? []).map((n) => `<p class="note">${escapeXml(n)}</p>`).join('')}</section>
<section><h2>Data</h2>${table(['role', 'file', 'bytes', 'SHA-256', 'events', 'sessions'], dataRows, 2)}${counts}</section>
<section><h2>Summary at K = ${K}</h2>${table(['model', 'mode', 'predictions', `HR@${K}`, `MRR@${K}`, `NDCG@${K}`, `coverage@${K}`, 'popularity %ile', 'events/s'], summaryRows)}${modeNote}</section>
<section><h2>Charts</h2><div class="charts">${charts.map((c) => `<figure>${c}</figure>`).join('')}</div></section>
${latencySection(results)}
<section><h2>All cut-offs</h2>${table(['model', 'K', 'HR@K', 'MRR@K', 'NDCG@K', 'coverage@K'], fullRows)}</section>
<section><h2>Predictions per prefix length</h2>${table(['prefix length', ...results.map((r) => r.model)], prefixRows)}</section>
</body></html>
`;
}
