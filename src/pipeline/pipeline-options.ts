import { InvalidOptionError } from '../errors.js';
import type { Logger } from '../instrumentation/typed-emitter.js';
import type { SessionizerOptions } from '../sessions/sessionizer-options.js';
import type { OovPolicy } from '../vocab/item-vocabulary.js';
import type { ItemId } from '../events/click-event.js';

export interface PipelineOptions {
  /** Recommendations per event. @defaultValue 20 */
  readonly k?: number;
  /** Exclude items already in the session from recommendations. Off by default: repeat clicks are common. @defaultValue false */
  readonly excludeSeen?: boolean;
  /** Items never recommended (external ids). */
  readonly blocklist?: Iterable<ItemId>;
  /** If set, only these items are recommended (external ids). */
  readonly allowlist?: Iterable<ItemId>;
  /** Unknown items: `ignore` (counted, session kept alive) or `error` (the event is rejected to the dead-letter path). @defaultValue 'ignore' */
  readonly oov?: Exclude<OovPolicy, 'grow'>;
  /** Largest micro-batch of events scored in one model call. @defaultValue 256 */
  readonly maxBatchSize?: number;
  /**
   * How long an event that finds the model idle waits for more events to join its batch, in ms (0 = until
   * the current turn of the event loop ends, which gathers a synchronous burst). While a step runs, events
   * queue and go in the next step as soon as it ends, whatever this is. @defaultValue 0
   */
  readonly maxDelayMs?: number;
  /** Sessionizer options (idle timeout, LRU cap...). */
  readonly sessions?: SessionizerOptions;
  /** Label written into each recommendation (e.g. the model directory's version). @defaultValue scorer name */
  readonly modelVersion?: string;
  /** Structured logger (pino-compatible). @defaultValue no-op */
  readonly logger?: Logger;
}

export const pipelineDefaults = {
  k: 20,
  excludeSeen: false,
  oov: 'ignore',
  maxBatchSize: 256,
  maxDelayMs: 0,
} as const;

export function validatePipelineOptions(o: PipelineOptions): void {
  const k = o.k ?? pipelineDefaults.k;
  if (!Number.isInteger(k) || k < 1) throw new InvalidOptionError('k', `k must be an integer ≥ 1, got ${String(k)}`);
  const b = o.maxBatchSize ?? pipelineDefaults.maxBatchSize;
  if (!Number.isInteger(b) || b < 1) throw new InvalidOptionError('maxBatchSize', `maxBatchSize must be an integer ≥ 1, got ${String(b)}`);
  const d = o.maxDelayMs ?? pipelineDefaults.maxDelayMs;
  if (!Number.isFinite(d) || d < 0) throw new InvalidOptionError('maxDelayMs', `maxDelayMs must be ≥ 0, got ${String(d)}`);
  if (o.oov !== undefined && o.oov !== 'ignore' && o.oov !== 'error') throw new InvalidOptionError('oov', `oov must be "ignore" or "error", got ${String(o.oov)}`);
}
