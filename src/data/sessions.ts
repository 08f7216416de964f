import { NextclickError, ParseError } from '../errors.js';
import type { ItemId } from '../events/click-event.js';
import type { ClickLogOptions, ClickLogStats } from './click-log-options.js';
import { ClickLogReader } from './click-log.js';
import { readLineBatches } from './line-reader.js';
import { parseItemId } from './parsers.js';

/** One session of a log: its items and their times (ms since the epoch), in time order. */
export interface LoggedSession {
  readonly sessionId: string;
  readonly items: ItemId[];
  readonly times: number[];
}

export interface ReadSessionsOptions extends ClickLogOptions {
  /**
   * Fail when a session id comes back after another session started (the log is not grouped by session).
   * Costs one Set entry per session; turn off for huge logs you know are grouped. @defaultValue true
   */
  readonly checkContiguous?: boolean;
  /** Stable-sort each session's events by time (Diginetica rows are not in time order). @defaultValue true */
  readonly sortWithinSession?: boolean;
}

/** A stream of sessions with the underlying reader's stats. */
export interface SessionLog extends AsyncIterable<LoggedSession> {
  readonly stats: Readonly<ClickLogStats>;
}

/**
 * Streams the sessions of a log whose sessions are contiguous (all events of a session on consecutive
 * lines, as in prepared TSV, YooChoose, Diginetica, OTTO and SR-GNN files). RetailRocket and other logs
 * keyed by visitor, or interleaved logs, are not: run `nextclick prepare` (or {@link prepare}) on them first;
 * with `checkContiguous` (default) such a log fails with an `INVALID_INPUT` error rather than split sessions.
 */
export function readSessions(path: string, options: ReadSessionsOptions): SessionLog {
  const reader = new ClickLogReader(path, options);
  const check = options.checkContiguous ?? true;
  const sort = options.sortWithinSession ?? true;
  return {
    get stats() {
      return reader.stats;
    },
    async *[Symbol.asyncIterator]() {
      const finished = new Set<string>();
      let id: string | undefined;
      let items: ItemId[] = [];
      let times: number[] = [];
      const flush = (): LoggedSession => (sort ? sortByTime(id as string, items, times) : { sessionId: id as string, items, times });
      for await (const batch of reader.batches()) {
        for (const e of batch) {
          if (e.sessionId !== id) {
            if (id !== undefined) {
              if (check) finished.add(id);
              yield flush();
            }
            if (check && finished.has(e.sessionId)) {
              throw new NextclickError(
                'INVALID_INPUT',
                `${path}: session "${e.sessionId}" appears again after other sessions; readSessions needs each session's events on consecutive lines. Run \`nextclick prepare\` on this log first (or read it with readClickLog and a Sessionizer).`,
                { context: { file: path, sessionId: e.sessionId } },
              );
            }
            id = e.sessionId;
            items = [];
            times = [];
          }
          items.push(e.itemId);
          times.push(e.timestamp);
        }
      }
      if (id !== undefined) yield flush();
    },
  };
}

function sortByTime(sessionId: string, items: ItemId[], times: number[]): LoggedSession {
  let sorted = true;
  for (let i = 1; i < times.length && sorted; i++) sorted = (times[i - 1] as number) <= (times[i] as number);
  if (sorted) return { sessionId, items, times };
  const order = times.map((_, i) => i).sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  return { sessionId, items: order.map((i) => items[i] as ItemId), times: order.map((i) => times[i] as number) };
}

/** One evaluation case of a `prefix<TAB>target` file: the items seen so far and the next item. */
export interface PrefixTarget {
  readonly prefix: ItemId[];
  readonly target: ItemId;
  /** 1-based line number in the file. */
  readonly line: number;
}

/**
 * Streams a `prefix<TAB>target` file (SR-GNN/GCE-GNN evaluation sets, e.g. diginetica/test_prefix_target.tsv):
 * prefix items space-separated, integer-looking ids as numbers. Empty lines are skipped; a malformed line throws
 * a ParseError naming file:line.
 */
export async function* readPrefixTargets(path: string): AsyncGenerator<PrefixTarget> {
  for await (const { lines, firstLineNo } of readLineBatches(path)) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.trim() === '') continue;
      const lineNo = firstLineNo + i;
      const tab = line.indexOf('\t');
      try {
        if (tab < 0) throw new Error('expected "prefix<TAB>target"');
        const prefixText = line.slice(0, tab).trim();
        const prefix = prefixText === '' ? [] : prefixText.split(/\s+/).map((s) => parseItemId(s, 'auto'));
        const target = parseItemId(line.slice(tab + 1).trim(), 'auto');
        yield { prefix, target, line: lineNo };
      } catch (err) {
        throw new ParseError(`${path}:${lineNo}: ${(err as Error).message}`, { cause: err, context: { file: path, line: lineNo } });
      }
    }
  }
}
