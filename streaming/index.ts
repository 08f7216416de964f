/// <reference types="node" preserve="true" />
// `nextclick/kafka`: the Kafka stream worker (kafkajs stays behind streaming/kafka/), metrics and their HTTP endpoint.
export { KafkaStreamWorker } from './kafka/stream-worker.js';
export type { StreamWorkerEvents, StreamWorkerStats } from './kafka/stream-worker.js';
export { KafkaClickSource } from './kafka/click-source.js';
export { decodeRecord } from './kafka/decode-record.js';
export { DEFAULT_MIN_TIMESTAMP, LIVE_EVENT_TIME_BOUNDS } from '../src/events/click-event.js';
export { COMPRESSION_NAMES, registerCompressionCodecs } from './kafka/compression.js';
export type { CompressionName } from './kafka/compression.js';
export type { RecordDecodeOptions } from './kafka/decode-record.js';
export type { RecordMeta, DeadLetter, DecodedRecord, SourceBatch } from './kafka/click-source.js';
export { KafkaRecommendationSink } from './kafka/recommendation-sink.js';
export type { RecommendationRecord, CommitPoint } from './kafka/recommendation-sink.js';
export { workerDefaults, resolveWorkerOptions } from './kafka/worker-options.js';
export type { KafkaStreamWorkerOptions, DeliveryMode, StreamOovPolicy, StreamPipelineOptions } from './kafka/worker-options.js';
export type { KafkaConnectionOptions, KafkaSaslOptions, KafkaTlsOptions } from './kafka/client.js';
export { RecordHeaders, headerString } from './kafka/headers.js';
export { createTopics, produceEvents } from './kafka/topics.js';
export { StreamMetrics } from './metrics.js';
export { startMetricsServer } from './metrics-server.js';
export type { MetricsServer, MetricsServerOptions } from './metrics-server.js';
export { readTopic } from './kafka/topic-reader.js';
export { changelogTopicName } from './kafka/changelog.js';
export type { ReadRecord, ReadTopicOptions } from './kafka/topic-reader.js';
export { EventProducer, committedLag } from './kafka/topics.js';
export type { RawRecord } from './kafka/topics.js';
