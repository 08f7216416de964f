/**
 * A progress reporter for long work (file reads, training epochs). Draws a bar on a TTY, prints a line
 * every few seconds otherwise (CI logs), and nothing when disabled.
 */
export interface ProgressOptions {
  /** Label shown before the bar. */
  readonly label: string;
  /** Total units, if known (bytes, events, steps). */
  readonly total?: number;
  /** Unit name for rates, e.g. `events`. @defaultValue 'items' */
  readonly unit?: string;
  /** Where to draw. @defaultValue process.stderr */
  readonly stream?: NodeJS.WriteStream;
  /** Turn off entirely. @defaultValue false */
  readonly silent?: boolean;
  /** Minimum ms between redraws; the first redraw comes one interval after the start. @defaultValue 200 on a TTY, 5000 otherwise */
  readonly intervalMs?: number;
  /** Milliseconds clock used for redraw pacing, rates and elapsed time (tests inject a fake one). @defaultValue performance.now */
  readonly clock?: () => number;
}

export class ProgressBar {
  private done = 0;
  private readonly clock: () => number;
  private readonly start: number;
  private lastDraw: number;
  private extra = '';
  private finished = false;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly interval: number;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.interval = options.intervalMs ?? (this.tty ? 200 : 5000);
    this.clock = options.clock ?? (() => performance.now());
    this.start = this.clock();
    this.lastDraw = this.start;
  }

  /** Sets absolute progress and an optional status text (e.g. `loss 3.21`). */
  update(done: number, extra?: string): void {
    this.done = done;
    if (extra !== undefined) this.extra = extra;
    const now = this.clock();
    if (now - this.lastDraw >= this.interval) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  tick(n = 1, extra?: string): void {
    this.update(this.done + n, extra);
  }

  /** Rate in units per second so far. */
  get rate(): number {
    const s = (this.clock() - this.start) / 1000;
    return s > 0 ? this.done / s : 0;
  }

  finish(extra?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (extra !== undefined) this.extra = extra;
    this.draw(true);
  }

  private draw(final: boolean): void {
    if (this.options.silent) return;
    const o = this.options;
    const unit = o.unit ?? 'items';
    const elapsed = (this.clock() - this.start) / 1000;
    const rate = this.rate;
    let line = `${o.label} `;
    if (o.total && o.total > 0) {
      const frac = Math.min(1, this.done / o.total);
      const width = 24;
      const fill = Math.round(frac * width);
      const eta = rate > 0 ? (o.total - this.done) / rate : 0;
      line += `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(1)}% ${fmt(this.done)}/${fmt(o.total)}`;
      if (!final) line += ` eta ${eta.toFixed(0)}s`;
    } else {
      line += fmt(this.done);
    }
    line += ` ${fmt(rate)} ${unit}/s ${elapsed.toFixed(1)}s`;
    if (this.extra) line += ` ${this.extra}`;
    if (this.tty) this.stream.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    else this.stream.write(`${line}\n`);
  }
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
