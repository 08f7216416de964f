/**
 * The HTML report of a tuning run (`nextclick tune --report r.html`): the trials table, the validation figure
 * of each trial, and of the neural trials after each epoch (where successive halving stopped them), as inline
 * SVG charts in the replay report's style. Self-contained: no scripts, no network.
 */
import type { DataFingerprint } from '../eval/data-fingerprint.js';
import { REPORT_STYLE } from '../eval/html-report.js';
import { barChart, escapeXml, lineChart, seriesColour } from '../eval/html-report-charts.js';
import type { TrialRecord } from './trial-store.js';
import { objectiveOf, type Objective } from './tuner.js';

/** What {@link renderTuneReport} shows. */
export interface TuneReportInput {
  /** The command line of the run, shown verbatim. */
  readonly command: string;
  readonly data: readonly DataFingerprint[];
  readonly records: readonly TrialRecord[];
  readonly best: TrialRecord | undefined;
  /** The figure trials were ranked by, and its name (e.g. `HR@20 + MRR@20`). */
  readonly objective: Objective;
  readonly metricName: string;
  /** @defaultValue now */
  readonly generatedAt?: Date;
}

/** Trials drawn in the per-epoch chart: the defaults and the best others (more lines would be unreadable). */
const EPOCH_CHART_TRIALS = 8;

const f4 = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(4));

function table(head: readonly string[], rows: readonly (readonly string[])[], numericFrom: number): string {
  const th = head.map((h, i) => `<th${i >= numericFrom ? ' class="n"' : ''}>${escapeXml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

const label = (r: TrialRecord) => `${r.trial} ${r.kind}${r.defaults ? ' (defaults)' : ''}`;

/** Renders the tuning report as one HTML page. */
export function renderTuneReport(input: TuneReportInput): string {
  const records = [...input.records].sort((a, b) => a.trial - b.trial);
  const kinds = [...new Set(records.map((r) => r.kind))];
  const m = input.metricName;
  const charts: string[] = [];
  // One bar per trial, coloured by kind.
  charts.push(barChart({
    title: `Validation ${m} of each trial's kept model`,
    categories: records.map((r) => String(r.trial)),
    series: kinds.map((k) => ({ name: k, values: records.map((r) => (r.kind === k && r.score !== undefined && r.status !== 'pruned' ? r.score : Number.NaN)) })),
    xLabel: 'trial (pruned and failed trials have no bar)',
    yLabel: m,
  }));
  const withEpochs = records.filter((r) => r.epochs.length > 0);
  if (withEpochs.length > 0) {
    const maxEpoch = Math.max(...withEpochs.flatMap((r) => r.epochs.map((e) => e.epoch)));
    const objective = (e: TrialRecord['epochs'][number]) => objectiveOf(e, input.objective);
    const peak = (r: TrialRecord) => Math.max(...r.epochs.map(objective));
    const shown = [...withEpochs.filter((r) => r.defaults), ...withEpochs.filter((r) => !r.defaults).sort((a, b) => peak(b) - peak(a))].slice(0, EPOCH_CHART_TRIALS);
    charts.push(lineChart({
      title: `Validation ${m} after each epoch (defaults and the ${EPOCH_CHART_TRIALS} best)`,
      categories: Array.from({ length: maxEpoch }, (_, i) => String(i + 1)),
      series: shown.map((r) => ({ name: `${label(r)}${r.status === 'pruned' ? ' pruned' : ''}`, values: Array.from({ length: maxEpoch }, (_, i) => { const e = r.epochs.find((x) => x.epoch === i + 1); return e ? objective(e) : Number.NaN; }) })),
      xLabel: 'epoch (a line ends where its trial stopped)',
      yLabel: m,
    }));
  }
  const statuses = ['completed', 'pruned', 'out-of-time', 'failed'];
  const counts = kinds.map((k) => statuses.map((s) => records.filter((r) => r.kind === k && r.status === s).length));
  charts.push(barChart({
    title: 'How trials ended, by model kind',
    categories: statuses,
    series: kinds.map((k, i) => ({ name: k, values: counts[i]! })),
    xLabel: 'status',
    yLabel: 'trials',
    format: (v) => v.toFixed(0),
    // A multiple of the 4 tick intervals, so every tick is a whole number of trials.
    yMax: 4 * Math.max(1, Math.ceil(Math.max(...counts.flat()) / 4)),
  }));

  const rows = records.map((r) => {
    const kindIndex = kinds.indexOf(r.kind);
    const params = r.defaults ? '<em>defaults</em>' : `<code>${escapeXml(Object.entries(r.params).map(([k, v]) => `${k}=${String(v)}`).join(' '))}</code>`;
    const last = r.epochs[r.epochs.length - 1];
    const mark = input.best?.trial === r.trial ? ' <strong>best</strong>' : '';
    return [String(r.trial), `<span class="swatch" style="background:${seriesColour(kindIndex)}"></span>${escapeXml(r.kind)}${mark}`, params,
      escapeXml(r.status + (r.error ? `: ${r.error}` : '')), String(r.epochs.length || '–'), f4(last?.hitRate), f4(last?.mrr), f4(r.score), r.seconds.toFixed(1)];
  });
  const dataRows = input.data.map((d) => [escapeXml(d.role), escapeXml(d.name), String(d.bytes), `<code>${escapeXml(d.sha256)}</code>`]);
  const best = input.best;
  const bestLine = best
    ? `<p>Best: trial ${best.trial}, ${escapeXml(best.kind)} ${best.defaults ? '(its defaults)' : ''}, validation ${escapeXml(m)} ${f4(best.score)}.</p>`
    : '<p>No trial produced a model.</p>';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>nextclick tuning report</title>
<style>${REPORT_STYLE}</style></head><body>
<h1>nextclick tuning report</h1>
<p class="meta">Generated ${escapeXml((input.generatedAt ?? new Date()).toISOString())} by nextclick. Self-contained: no scripts, no network.</p>
<section><h2>Command</h2><pre>${escapeXml(input.command)}</pre>
<p class="note">Every figure is on the validation sessions (the newest training sessions, held out); none is on a test log.</p></section>
<section><h2>Data</h2>${table(['role', 'file', 'bytes', 'SHA-256'], dataRows, 2)}</section>
<section><h2>Result</h2>${bestLine}</section>
<section><h2>Charts</h2><div class="charts">${charts.map((c) => `<figure>${c}</figure>`).join('')}</div></section>
<section><h2>Trials</h2>${table(['trial', 'kind', 'parameters', 'status', 'epochs', 'last HR@20', 'last MRR@20', `kept ${m}`, 'seconds'], rows, 4)}</section>
</body></html>
`;
}
