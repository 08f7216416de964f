/**
 * Click log readers and preprocessing.
 *
 * Formats ({@link ClickLogOptions.format}):
 * - `tsv` / `csv`: generic delimited files; `columns` maps header names (or 0-based indices) to fields.
 *   Defaults read the prepared format `SessionId<TAB>ItemId<TAB>Time` (epoch seconds).
 * - `jsonl`: one JSON object per line; default keys are the ClickEvent field names, `timestamp` in ms.
 * - `yoochoose`: the prepared TSV (header `SessionId ItemId Time`, seconds) or the raw RecSys 2015 clicks file
 *   (`session,ISO time,item,category`, no header); told apart by the first line.
 * - `diginetica`: raw `train-item-views.csv` (`;`, header `session_id;user_id;item_id;timeframe;eventdate`);
 *   time = eventdate (UTC midnight) + timeframe ms. Rows of a session are not in time order: readSessions sorts.
 * - `retailrocket`: `events.csv` (`timestamp,visitorid,event,itemid,transactionid`, ms); session id = visitor id,
 *   so sessions are neither contiguous nor split by idleness: run `prepare` first.
 * - `otto`: JSONL `{"session", "events": [{"aid", "ts", "type"}]}`; ts in ms (values < 1e11 are taken as seconds).
 * - `msgpack`: concatenated msgpack events, encoded as on the Kafka wire (see writeMsgpackLog).
 * - `srgnn`: one session per line, item ids separated by spaces, no times; session id = 1-based line number,
 *   time = 2000-01-01Z + line × 1 h + position × 1 s ({@link SRGNN_BASE_TIME_MS}).
 */
export { readClickLog, ClickLogReader } from './click-log.js';
export { ClickLogFormats, defaultClickLogOptions } from './click-log-options.js';
export type { ClickLogFormat, ClickLogOptions, ClickLogStats, ColumnMapping, TimeUnit, ItemIdType, BadLine } from './click-log-options.js';
export { readSessions, readPrefixTargets } from './sessions.js';
export type { LoggedSession, ReadSessionsOptions, SessionLog, PrefixTarget } from './sessions.js';
export { readLineBatches, readLines, fileSize } from './line-reader.js';
export type { LineBatch } from './line-reader.js';
export { splitDelimited, joinDelimited } from './delimited.js';
export { SRGNN_BASE_TIME_MS, parseTime, parseItemId } from './parsers.js';
export { prepare } from './prepare.js';
export type { PrepareStats, SplitPartStats } from './prepare.js';
export { defaultPrepareOptions } from './prepare-options.js';
export type { PrepareOptions } from './prepare-options.js';
export type { FilterStats } from './session-split.js';
export { writeMsgpackLog } from './msgpack-log.js';
