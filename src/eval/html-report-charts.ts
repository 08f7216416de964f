/**
 * Inline SVG charts for the HTML replay report: a line chart over categorical x values and a grouped bar
 * chart. Plain strings, no DOM and no scripts, so a report is one self-contained file.
 */

/** Okabe–Ito colours (distinguishable with colour-vision deficiencies), one per model. */
export const SERIES_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'] as const;

export function seriesColour(i: number): string {
  return SERIES_COLOURS[i % SERIES_COLOURS.length]!;
}

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export interface ChartSeries {
  readonly name: string;
  /** One value per category; NaN leaves a gap. */
  readonly values: readonly number[];
}

export interface ChartSpec {
  readonly title: string;
  /** Category labels along the x axis. */
  readonly categories: readonly string[];
  readonly series: readonly ChartSeries[];
  readonly xLabel: string;
  readonly yLabel: string;
  /** Format of tick and value labels. @defaultValue 3 decimals */
  readonly format?: (v: number) => string;
  /** Upper end of the y axis. @defaultValue a round number above the largest value */
  readonly yMax?: number;
}

const W = 560;
const H = 310;
const M = { left: 56, right: 16, top: 34, bottom: 80 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

/** A "nice" axis top above `max` (1, 2, 2.5 or 5 times a power of ten). */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function frame(spec: ChartSpec, yMax: number, body: string): string {
  const fmt = spec.format ?? ((v: number) => v.toFixed(3));
  const ticks: string[] = [];
  for (let t = 0; t <= 4; t++) {
    const v = (yMax * t) / 4;
    const y = M.top + PH - (PH * t) / 4;
    ticks.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>` +
      `<text x="${M.left - 6}" y="${y + 4}" text-anchor="end" class="tick">${escapeXml(fmt(v))}</text>`);
  }
  // Legend entries flow left to right and wrap (widths estimated from the 12 px font).
  let lx = M.left;
  let ly = M.top + PH + 52;
  const legend = spec.series.map((s, i) => {
    const name = truncate(s.name, 40);
    const w = 14 + 6.6 * name.length + 18;
    if (lx > M.left && lx + w > W - M.right) { lx = M.left; ly += 14; }
    const item = `<rect x="${lx.toFixed(1)}" y="${ly - 9}" width="10" height="10" fill="${seriesColour(i)}"/><text x="${(lx + 14).toFixed(1)}" y="${ly}" class="legend">${escapeXml(name)}</text>`;
    lx += w;
    return item;
  }).join('');
  // Taller than the default when the legend needs more than two rows.
  const height = Math.max(H, ly + 10);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${escapeXml(spec.title)}">` +
    `<rect width="${W}" height="${height}" fill="#fff"/>` +
    `<text x="${W / 2}" y="18" text-anchor="middle" class="title">${escapeXml(spec.title)}</text>` +
    ticks.join('') +
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + PH}" stroke="#888"/>` +
    `<line x1="${M.left}" x2="${M.left + PW}" y1="${M.top + PH}" y2="${M.top + PH}" stroke="#888"/>` +
    `<text x="${M.left + PW / 2}" y="${M.top + PH + 33}" text-anchor="middle" class="axis">${escapeXml(spec.xLabel)}</text>` +
    `<text transform="translate(14 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeXml(spec.yLabel)}</text>` +
    body + legend + '</svg>';
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function axisMax(spec: ChartSpec): number {
  if (spec.yMax !== undefined) return spec.yMax;
  let max = 0;
  for (const s of spec.series) for (const v of s.values) if (Number.isFinite(v) && v > max) max = v;
  return niceCeiling(max);
}

function categoryLabels(spec: ChartSpec, xOf: (c: number) => number): string {
  // At most about 12 labels, so they never run into each other.
  const step = Math.ceil(spec.categories.length / 12);
  return spec.categories.map((c, j) => (j % step !== 0 ? '' : `<text x="${xOf(j)}" y="${M.top + PH + 16}" text-anchor="middle" class="tick">${escapeXml(c)}</text>`)).join('');
}

/** Lines with markers, one per series, over evenly spaced categories. Hovering a marker shows its value. */
export function lineChart(spec: ChartSpec): string {
  const yMax = axisMax(spec);
  const fmt = spec.format ?? ((v: number) => v.toFixed(3));
  const n = spec.categories.length;
  const xOf = (j: number) => M.left + (n === 1 ? PW / 2 : 12 + (j * (PW - 24)) / (n - 1));
  const yOf = (v: number) => M.top + PH - (PH * Math.min(v, yMax)) / yMax;
  const body = spec.series.map((s, i) => {
    const colour = seriesColour(i);
    const pts = s.values.map((v, j) => (Number.isFinite(v) ? [xOf(j), yOf(v), v] as const : undefined));
    let path = '';
    let pen = false;
    for (const p of pts) {
      if (!p) { pen = false; continue; }
      path += `${pen ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
      pen = true;
    }
    const marks = pts.map((p, j) => (p ? `<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="3.5" fill="${colour}"><title>${escapeXml(`${s.name}, ${spec.categories[j]}: ${fmt(p[2])}`)}</title></circle>` : '')).join('');
    return `<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>${marks}`;
  }).join('');
  return frame(spec, yMax, categoryLabels(spec, xOf) + body);
}

/** Grouped bars: one group per category, one bar per series. Hovering a bar shows its value. */
export function barChart(spec: ChartSpec): string {
  const yMax = axisMax(spec);
  const fmt = spec.format ?? ((v: number) => v.toFixed(3));
  const n = spec.categories.length;
  const groupW = PW / Math.max(1, n);
  const barW = Math.max(1, (groupW * 0.8) / Math.max(1, spec.series.length));
  const xOf = (j: number) => M.left + groupW * (j + 0.5);
  const body = spec.series.map((s, i) => s.values.map((v, j) => {
    if (!Number.isFinite(v)) return '';
    const h = (PH * Math.min(Math.max(v, 0), yMax)) / yMax;
    const x = M.left + groupW * j + groupW * 0.1 + i * barW;
    return `<rect x="${x.toFixed(1)}" y="${(M.top + PH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${seriesColour(i)}"><title>${escapeXml(`${s.name}, ${spec.categories[j]}: ${fmt(v)}`)}</title></rect>`;
  }).join('')).join('');
  return frame(spec, yMax, categoryLabels(spec, xOf) + body);
}
