import { NextclickError, type ErrorCode } from '../../src/errors.js';
import type { ClickEvent, ItemId } from '../../src/events/click-event.js';
import type { SessionRecommendation } from '../../src/pipeline/click-pipeline.js';
import type { RecommenderOptions } from '../../src/scoring/recommender.js';

/** Messages between a RecommenderPool and its worker threads (structured-clone safe). */
export type PoolRequest =
  | { readonly type: 'observe'; readonly ids: number[]; readonly events: ClickEvent[] }
  | { readonly type: 'recommend'; readonly id: number; readonly sessionId: string; readonly k?: number; readonly exclude?: ItemId[]; readonly excludeSeen?: boolean }
  | { readonly type: 'stats'; readonly id: number }
  | { readonly type: 'close'; readonly id: number };

export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly context: Record<string, unknown>;
}

export type PoolReply =
  | { readonly type: 'ready' }
  | { readonly type: 'init-failed'; readonly error: SerializedError }
  | { readonly type: 'results'; readonly ids: number[]; readonly results: (SessionRecommendation | null | SerializedError)[] }
  | { readonly type: 'result'; readonly id: number; readonly result: unknown; readonly error?: SerializedError };

export interface PoolWorkerData {
  readonly modelDir: string;
  readonly options: Omit<RecommenderOptions, 'logger'>;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof NextclickError) return { code: err.code, message: err.message, context: { ...err.context } };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), context: {} };
}

export function isSerializedError(v: unknown): v is SerializedError {
  return v !== null && typeof v === 'object' && 'code' in v && 'message' in v && !('items' in v);
}

/** Rebuilds a typed error on the caller's side (the class is NextclickError; code and context survive). */
export function reviveError(e: SerializedError): NextclickError {
  return new NextclickError(e.code, e.message, { context: e.context });
}
