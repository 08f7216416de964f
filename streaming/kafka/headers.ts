/** Header names written by the worker (output and dead-letter records). Values are UTF-8 strings. */
export const RecordHeaders = {
  inputTopic: 'nextclick-input-topic',
  inputPartition: 'nextclick-input-partition',
  inputOffset: 'nextclick-input-offset',
  /** Input record timestamp (ms), so downstream consumers can measure end-to-end latency. */
  inputTimestamp: 'nextclick-input-timestamp',
  schemaVersion: 'nextclick-schema-version',
  contentType: 'content-type',
  deadLetterReason: 'nextclick-dlq-reason',
  deadLetterMessage: 'nextclick-dlq-message',
} as const;

/** Reads a header value as a string (kafkajs gives Buffer | string | array | undefined). */
export function headerString(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.length > 0 ? String(v[0]) : undefined;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}
