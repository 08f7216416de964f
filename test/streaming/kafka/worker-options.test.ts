import { describe, expect, it } from 'vitest';
import { resolveWorkerOptions, workerDefaults, type KafkaStreamWorkerOptions } from '../../../streaming/kafka/worker-options.js';

const base: KafkaStreamWorkerOptions = { brokers: ['127.0.0.1:9092'], inputTopic: 'clicks', outputTopic: 'recs', groupId: 'g' };

describe('resolveWorkerOptions', () => {
  it('fills the defaults and derives the dead-letter topic and app id', () => {
    const r = resolveWorkerOptions(base);
    expect(r.deadLetterTopic).toBe('clicks.dlq');
    expect(r.appId).toBe('g');
    expect(r.delivery).toBe('at-least-once');
    expect(r.closeTimeoutMs).toBe(workerDefaults.closeTimeoutMs);
    expect(r.commitVisibleTimeoutMs).toBe(10_000);
    expect(r.changelogTopic).toBeUndefined();
  });

  it('names the changelog <appId>-<inputTopic>-changelog unless given', () => {
    expect(resolveWorkerOptions({ ...base, changelog: true }).changelogTopic).toBe('g-clicks-changelog');
    expect(resolveWorkerOptions({ ...base, appId: 'app', changelog: {} }).changelogTopic).toBe('app-clicks-changelog');
    expect(resolveWorkerOptions({ ...base, changelog: { topic: 'state' } }).changelogTopic).toBe('state');
    expect(resolveWorkerOptions({ ...base, changelog: false }).changelogTopic).toBeUndefined();
  });

  it.each([
    [{ brokers: [] }, 'brokers'],
    [{ brokers: ['localhost'] }, 'brokers'],
    [{ inputTopic: '' }, 'inputTopic'],
    [{ delivery: 'at-most-once' }, 'delivery'],
    [{ outputTopic: 'clicks' }, 'outputTopic'],
    [{ commitVisibleTimeoutMs: 0 }, 'commitVisibleTimeoutMs'],
    [{ closeTimeoutMs: 1.5 }, 'closeTimeoutMs'],
    [{ heartbeatIntervalMs: 20_000 }, 'heartbeatIntervalMs'],
    [{ compression: 'brotli' }, 'compression'],
    [{ maxPastMs: -1 }, 'maxPastMs'],
    [{ changelog: { topic: 'recs' } }, 'changelog'],
    [{ changelog: { topic: '' } }, 'changelog'],
    [{ changelog: 'yes' }, 'changelog'],
    [{ changelogRestoreTimeoutMs: 0 }, 'changelogRestoreTimeoutMs'],
  ])('rejects %o with an InvalidOptionError naming %s', (change, option) => {
    expect(() => resolveWorkerOptions({ ...base, ...change } as KafkaStreamWorkerOptions)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', option }));
  });
});
