import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Worker metrics, registered in the caller's prom-client Registry (never the global one, so two workers or a
 * test can each own theirs). Names carry a prefix (`nextclick_` by default).
 */
export class StreamMetrics {
  readonly events: Counter<'outcome'>;
  readonly recommendations: Counter;
  readonly latency: Histogram;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly deadLetters: Counter<'reason'>;
  readonly rebalances: Counter;
  readonly inFlight: Gauge;
  readonly liveSessions: Gauge;
  readonly sessionsClosed: Counter<'reason'>;
  readonly changelogRecords: Counter<'kind'>;
  readonly restoredSessions: Counter;
  readonly restoreSeconds: Histogram;
  readonly corruptChangelogRecords: Counter;

  constructor(registry: Registry, prefix = 'nextclick_') {
    const registers = [registry];
    this.events = new Counter({ name: `${prefix}events_total`, help: 'Input events consumed, by outcome (scored, skipped, dead_letter, rebuild).', labelNames: ['outcome'], registers });
    this.recommendations = new Counter({ name: `${prefix}recommendations_total`, help: 'Recommendations written to the output topic.', registers });
    this.latency = new Histogram({
      name: `${prefix}event_to_recommendation_seconds`,
      help: 'Time from the input record timestamp to the recommendation being acknowledged (acks=all / transaction committed).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.lag = new Gauge({ name: `${prefix}consumer_lag`, help: 'Records between the last processed offset and the high watermark, per partition.', labelNames: ['topic', 'partition'], registers });
    this.deadLetters = new Counter({ name: `${prefix}dead_letters_total`, help: 'Input records sent to the dead-letter topic, by reason code.', labelNames: ['reason'], registers });
    this.rebalances = new Counter({ name: `${prefix}rebalances_total`, help: 'Partition assignments received (group joins).', registers });
    this.liveSessions = new Gauge({ name: `${prefix}live_sessions`, help: 'Live sessions held by the worker (all its partitions; the cap, sessions.maxSessions, is per partition).', registers });
    this.sessionsClosed = new Counter({ name: `${prefix}sessions_closed_total`, help: 'Sessions ended, by reason: idle (expired), evicted (over the maxSessions cap), split (idle gap), closed (shutdown).', labelNames: ['reason'], registers });
    this.changelogRecords = new Counter({ name: `${prefix}changelog_records_total`, help: 'Records written to the session-state changelog, by kind (session, tombstone, partition).', labelNames: ['kind'], registers });
    this.restoredSessions = new Counter({ name: `${prefix}restored_sessions_total`, help: 'Sessions restored from the changelog on partition assignment.', registers });
    this.restoreSeconds = new Histogram({ name: `${prefix}changelog_restore_seconds`, help: 'Time to restore one assigned partition from the changelog (read and rebuild).', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers });
    this.corruptChangelogRecords = new Counter({ name: `${prefix}changelog_corrupt_records_total`, help: 'Changelog records that could not be decoded on restore (skipped; the session restarts empty).', registers });
    this.inFlight = new Gauge({ name: `${prefix}in_flight_events`, help: 'Events fetched and not yet committed (bounded by one fetch).', registers });
  }
}
