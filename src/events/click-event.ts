import { InvalidEventError } from '../errors.js';

/** External item identifier as it appears in the user's logs. */
export type ItemId = string | number;

/** One click (view, cart, order...) in a session. The unit of data everywhere in nextclick. */
export interface ClickEvent {
  /** Session key; also the Kafka message key, so a session stays on one partition. */
  readonly sessionId: string;
  /** External item id (string or integer). */
  readonly itemId: ItemId;
  /** Event time in milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** Optional event type, e.g. `click`, `cart`, `order`. */
  readonly eventType?: string;
  /** Optional user id (not used for sessionization). */
  readonly userId?: string;
  /** Optional unique event id; duplicates are ignored by the Sessionizer. */
  readonly eventId?: string;
}

export interface EventValidationOptions {
  /** Reject timestamps earlier than this (ms since epoch). @defaultValue 0 */
  readonly minTimestamp?: number;
  /** Reject timestamps later than this (ms since epoch). @defaultValue no limit */
  readonly maxTimestamp?: number;
  /** Reject timestamps more than this far ahead of the wall clock (`now`), ms: clock skew, unit mistakes. @defaultValue no limit */
  readonly maxFutureMs?: number;
  /** Reject timestamps more than this far behind the wall clock (`now`), ms. @defaultValue no limit */
  readonly maxPastMs?: number;
  /** The wall clock the relative bounds are measured from, ms since epoch. @defaultValue Date.now() */
  readonly now?: number;
  /** Longest accepted id string, in characters. @defaultValue 512 */
  readonly maxIdLength?: number;
}

const DEFAULT_MAX_ID = 512;

/** Events before 2000-01-01Z are taken as broken clocks or unit mistakes (seconds for ms). */
export const DEFAULT_MIN_TIMESTAMP = 946_684_800_000;

/**
 * Event-time bound of live input (`Recommender.observe`, `RecommenderPool.observe`; the Kafka worker adds
 * {@link DEFAULT_MIN_TIMESTAMP}): at most one day ahead of the wall clock. One far-future event would otherwise
 * poison event time (a watermark of 1e20 expires every session). Offline data (training files, replay) is
 * checked without it.
 */
export const LIVE_EVENT_TIME_BOUNDS = { maxFutureMs: 86_400_000 } as const satisfies EventValidationOptions;

function checkString(obj: Record<string, unknown>, field: string, required: boolean, maxLen: number): string | undefined {
  const v = obj[field];
  if (v === undefined || v === null) {
    if (required) throw new InvalidEventError(field, `missing required field "${field}"`);
    return undefined;
  }
  if (typeof v === 'number' && Number.isFinite(v) && field === 'sessionId') return String(v);
  if (typeof v !== 'string') throw new InvalidEventError(field, `field "${field}" must be a string, got ${typeof v}`);
  if (v.length === 0) throw new InvalidEventError(field, `field "${field}" must not be empty`);
  if (v.length > maxLen) throw new InvalidEventError(field, `field "${field}" is longer than ${maxLen} characters`);
  return v;
}

/**
 * Checks an untrusted value (decoded JSON/msgpack, a parsed CSV row) and returns a well-typed ClickEvent.
 * Throws {@link InvalidEventError} naming the bad field. Numeric session ids are accepted and turned into strings.
 */
export function validateClickEvent(value: unknown, options: EventValidationOptions = {}): ClickEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEventError('$', `a click event must be an object, got ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}`);
  }
  const obj = value as Record<string, unknown>;
  const maxLen = options.maxIdLength ?? DEFAULT_MAX_ID;
  const sessionId = checkString(obj, 'sessionId', true, maxLen) as string;

  const item = obj['itemId'];
  let itemId: ItemId;
  if (typeof item === 'number') {
    if (!Number.isSafeInteger(item)) throw new InvalidEventError('itemId', `field "itemId" must be a safe integer or a string, got ${item}`);
    itemId = item;
  } else if (typeof item === 'string') {
    if (item.length === 0) throw new InvalidEventError('itemId', 'field "itemId" must not be empty');
    if (item.length > maxLen) throw new InvalidEventError('itemId', `field "itemId" is longer than ${maxLen} characters`);
    itemId = item;
  } else if (item === undefined || item === null) {
    throw new InvalidEventError('itemId', 'missing required field "itemId"');
  } else {
    throw new InvalidEventError('itemId', `field "itemId" must be a string or an integer, got ${typeof item}`);
  }

  const ts = obj['timestamp'];
  if (ts === undefined || ts === null) throw new InvalidEventError('timestamp', 'missing required field "timestamp"');
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    throw new InvalidEventError('timestamp', `field "timestamp" must be a finite number of milliseconds since the epoch, got ${typeof ts === 'number' ? ts : typeof ts}`);
  }
  const minTs = options.minTimestamp ?? 0;
  if (ts < minTs) throw new InvalidEventError('timestamp', `timestamp ${ts} is before the accepted minimum ${minTs}`);
  if (options.maxTimestamp !== undefined && ts > options.maxTimestamp) {
    throw new InvalidEventError('timestamp', `timestamp ${ts} is after the accepted maximum ${options.maxTimestamp}`);
  }
  if (options.maxFutureMs !== undefined || options.maxPastMs !== undefined) {
    const now = options.now ?? Date.now();
    if (options.maxFutureMs !== undefined && ts > now + options.maxFutureMs) {
      throw new InvalidEventError('timestamp', `timestamp ${ts} is more than ${options.maxFutureMs} ms ahead of the wall clock (${now}): fix the producer's clock or its unit (milliseconds since the epoch), or raise maxFutureMs`);
    }
    if (options.maxPastMs !== undefined && ts < now - options.maxPastMs) {
      throw new InvalidEventError('timestamp', `timestamp ${ts} is more than ${options.maxPastMs} ms behind the wall clock (${now}): fix the producer's clock or its unit, or raise maxPastMs`);
    }
  }

  const eventType = checkString(obj, 'eventType', false, maxLen);
  const userId = checkString(obj, 'userId', false, maxLen);
  const eventId = checkString(obj, 'eventId', false, maxLen);
  const ev: { -readonly [K in keyof ClickEvent]: ClickEvent[K] } = { sessionId, itemId, timestamp: ts };
  if (eventType !== undefined) ev.eventType = eventType;
  if (userId !== undefined) ev.userId = userId;
  if (eventId !== undefined) ev.eventId = eventId;
  return ev;
}
