import { Packr } from 'msgpackr';
import { DecodeError } from '../errors.js';
import type { ItemId } from '../events/click-event.js';
import { MSGPACK_OPTIONS } from '../events/msgpack-codec.js';
import type { SessionState } from './session-state.js';

/** Version of the session snapshot encoding (the `v` field); a reader refuses versions it does not know. */
export const SESSION_SNAPSHOT_VERSION = 1;

/** A sessionizer's event-time bookkeeping (see `Sessionizer.eventTimeState`). */
export interface EventTimeState {
  /** Highest trusted event time (-Infinity before the first event). */
  readonly maxEventTime: number;
  /** An outlier held back from the watermark, waiting for a second one. */
  readonly heldJump: number | undefined;
  /** The LRU clock: the touch counter sessions' `lastTouch` come from. */
  readonly touches: number;
}

/** Encoded form of one session (msgpack map). Items are external ids, so a snapshot survives a model change. */
interface SessionSnapshotV1 {
  v: 1;
  generation: number;
  items: ItemId[];
  times: number[];
  startTime: number;
  lastTime: number;
  eventCount: number;
  eventIdHashes: number[];
  lastTouch: number;
}

const packr = new Packr(MSGPACK_OPTIONS);

/** Encodes what is needed to resume a session exactly: its window (as external item ids), times, de-duplication hashes, LRU position. */
export function encodeSessionSnapshot(session: SessionState, idOf: (index: number) => ItemId): Buffer {
  const value: SessionSnapshotV1 = {
    v: 1,
    generation: session.generation,
    items: session.items.map((ix) => idOf(ix)),
    times: session.times,
    startTime: session.startTime,
    lastTime: session.lastTime,
    eventCount: session.eventCount,
    eventIdHashes: session.recentEventIdHashes,
    lastTouch: session.lastTouch,
  };
  return packr.pack(value);
}

/**
 * Decodes a session snapshot. Items unknown to `indexOf` (a negative index: the model changed) drop out with
 * their times, as in a hot swap. Throws {@link DecodeError} for bytes that are not a valid snapshot.
 */
export function decodeSessionSnapshot(key: string, bytes: Uint8Array, indexOf: (id: ItemId) => number): SessionState {
  const o = unpackOne(bytes, 'session snapshot');
  if (o['v'] !== SESSION_SNAPSHOT_VERSION) throw new DecodeError(`session snapshot version ${String(o['v'])} is not supported (this reader knows ${SESSION_SNAPSHOT_VERSION})`);
  const items = o['items'];
  const times = o['times'];
  const hashes = o['eventIdHashes'];
  if (!Array.isArray(items) || !Array.isArray(times) || items.length !== times.length) throw new DecodeError('session snapshot: items and times must be arrays of equal length');
  if (!times.every(isFiniteNumber) || !Array.isArray(hashes) || !hashes.every(isFiniteNumber)) throw new DecodeError('session snapshot: times and eventIdHashes must be numbers');
  if (!items.every((id) => typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)))) throw new DecodeError('session snapshot: item ids must be strings or integers');
  for (const f of ['generation', 'startTime', 'lastTime', 'eventCount', 'lastTouch'] as const) {
    if (!isFiniteNumber(o[f])) throw new DecodeError(`session snapshot: ${f} must be a finite number`);
  }
  const keptItems: number[] = [];
  const keptTimes: number[] = [];
  items.forEach((id: ItemId, i) => {
    const ix = indexOf(id);
    if (ix >= 0) { keptItems.push(ix); keptTimes.push(times[i] as number); }
  });
  return {
    key,
    generation: o['generation'] as number,
    items: keptItems,
    times: keptTimes,
    startTime: o['startTime'] as number,
    lastTime: o['lastTime'] as number,
    eventCount: o['eventCount'] as number,
    modelState: undefined,
    recentEventIdHashes: hashes as number[],
    lastTouch: o['lastTouch'] as number,
  };
}

/** Encodes event-time bookkeeping (with a version field), for a changelog's per-partition record. */
export function encodeEventTimeState(state: EventTimeState): Record<string, unknown> {
  return { maxEventTime: state.maxEventTime, heldJump: state.heldJump ?? null, touches: state.touches };
}

/** The inverse of {@link encodeEventTimeState}; throws {@link DecodeError}. */
export function decodeEventTimeState(o: unknown): EventTimeState {
  if (o === null || typeof o !== 'object') throw new DecodeError('event-time state must be a map');
  const r = o as Record<string, unknown>;
  const max = r['maxEventTime'];
  const held = r['heldJump'];
  if (typeof max !== 'number' || Number.isNaN(max) || max === Infinity) throw new DecodeError('event-time state: maxEventTime must be a number');
  if (held !== null && !isFiniteNumber(held)) throw new DecodeError('event-time state: heldJump must be a number or null');
  if (!isFiniteNumber(r['touches'])) throw new DecodeError('event-time state: touches must be a number');
  return { maxEventTime: max, heldJump: held === null ? undefined : held, touches: r['touches'] };
}

/** One msgpack map from `bytes`, or a {@link DecodeError}. */
export function unpackOne(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    const values: unknown[] = [];
    packr.unpackMultiple(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (v: unknown) => { values.push(v); return values.length <= 1; });
    if (values.length !== 1) throw new DecodeError(`${what}: expected one msgpack value, found ${values.length > 1 ? 'trailing bytes' : 'none'}`);
    value = values[0];
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`${what}: not valid msgpack (${(err as Error).message})`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DecodeError(`${what}: expected a msgpack map`);
  return value as Record<string, unknown>;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
