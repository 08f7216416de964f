import { NextclickError } from '../../errors.js';
import { codecFor } from '../../events/msgpack-codec.js';
import { createStderrLogger } from '../../instrumentation/typed-emitter.js';
import { loadModel } from '../../scoring/model-registry.js';
import { CliUsageError, numberOption, requiredString, stringOption, type CliCommand } from '../command.js';
import { loadModelPackages } from '../trainers.js';

export function parseFormat(raw: string | undefined): 'json' | 'msgpack' {
  const f = raw ?? 'msgpack';
  if (f !== 'json' && f !== 'msgpack') throw new CliUsageError(`--format expects msgpack or json, got "${f}"`);
  return f;
}

export function parseBrokers(raw: string): string[] {
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0 || list.some((b) => !/^[^:\s]+:\d+$/.test(b))) throw new CliUsageError(`--brokers expects host:port[,host:port...], got "${raw}"`);
  return list;
}

export const command: CliCommand = {
  name: 'stream',
  summary: 'run the Kafka worker: click events in, recommendations out',
  usage: `
nextclick stream --model DIR --brokers H:P --input-topic T --output-topic T [options]

  --model DIR            saved model directory (any registered kind)
  --brokers LIST         bootstrap brokers, host:port[,host:port]
  --input-topic T        click events, keyed by session id
  --output-topic T       recommendations, keyed by session id
  --dlq-topic T          dead letters (default: <input-topic>.dlq)
  --group G              consumer group (default: nextclick-<input-topic>)
  --exactly-once         transactional delivery (consumers must read read_committed); default at-least-once
  --transactional-id ID  stable per worker instance (exactly-once; default <group>-<client-id>)
  --format F             msgpack (default) | json, for input and output
  --k N                  recommendations per event (default 20)
  --rebuild-records N    records re-read per newly assigned partition to rebuild sessions (default 5000)
  --metrics-port N       serve Prometheus metrics on http://127.0.0.1:N/metrics
  --log-level L          debug | info (default) | warn | error, JSON lines on stderr

Runs until SIGINT/SIGTERM, then closes gracefully (finishes the in-flight batch, commits, disconnects).
`,
  options: {
    model: { type: 'string' },
    brokers: { type: 'string' },
    'input-topic': { type: 'string' },
    'output-topic': { type: 'string' },
    'dlq-topic': { type: 'string' },
    group: { type: 'string' },
    'exactly-once': { type: 'boolean' },
    'transactional-id': { type: 'string' },
    format: { type: 'string' },
    k: { type: 'string' },
    'rebuild-records': { type: 'string' },
    'metrics-port': { type: 'string' },
    'log-level': { type: 'string' },
  },
  async run(values, io) {
    const modelDir = requiredString(values, 'model');
    const brokers = parseBrokers(requiredString(values, 'brokers'));
    const inputTopic = requiredString(values, 'input-topic');
    const outputTopic = requiredString(values, 'output-topic');
    const format = parseFormat(stringOption(values, 'format'));
    const k = numberOption(values, 'k', 20, (n) => Number.isInteger(n) && n >= 1);
    const rebuildRecords = numberOption(values, 'rebuild-records', 5_000, (n) => Number.isInteger(n) && n >= 0);
    const metricsPort = values['metrics-port'] === undefined ? undefined : numberOption(values, 'metrics-port', 0, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
    const level = stringOption(values, 'log-level') ?? 'info';
    if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new CliUsageError(`--log-level expects debug|info|warn|error, got "${level}"`);
    const logger = createStderrLogger(level as 'info');

    // Model kinds register on import: baselines always, neural models when models/ is built.
    await import('../../baselines/index.js');
    const failed = await loadModelPackages();
    if (failed) logger.warn({ reason: failed }, 'neural model packages unavailable');
    const model = await loadModel(modelDir);
    const { KafkaStreamWorker } = await import('../../../streaming/kafka/stream-worker.js');
    const { startMetricsServer } = await import('../../../streaming/metrics-server.js');
    const { Registry, collectDefaultMetrics } = await import('prom-client');
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const worker = new KafkaStreamWorker(model.scorer, model.vocabulary, {
      brokers, inputTopic, outputTopic,
      deadLetterTopic: stringOption(values, 'dlq-topic'),
      groupId: stringOption(values, 'group') ?? `nextclick-${inputTopic}`,
      delivery: values['exactly-once'] === true ? 'exactly-once' : 'at-least-once',
      transactionalId: stringOption(values, 'transactional-id'),
      codec: codecFor(format),
      rebuildRecords,
      pipeline: { k, modelVersion: `${model.manifest.kind}@${modelDir}` },
      registry,
      logger,
    });
    const metrics = metricsPort === undefined ? undefined : await startMetricsServer(registry, { port: metricsPort });
    if (metrics) logger.info({ url: metrics.url }, 'metrics endpoint');

    // The CLI is the application: it owns the signals; the worker library installs none.
    let signalled: NodeJS.Signals | undefined;
    let onSignal: (sig: NodeJS.Signals) => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      onSignal = (sig: NodeJS.Signals) => { signalled = sig; resolve(); };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    let fatal: unknown;
    const crashed = new Promise<void>((resolve) => worker.on('crash', (c) => { if (c.fatal) { fatal = c.error; resolve(); } }));
    try {
      await worker.start();
      io.stderr.write(`nextclick stream: ${inputTopic} → ${outputTopic} (${format}, ${values['exactly-once'] ? 'exactly-once' : 'at-least-once'}); Ctrl-C stops\n`);
      await Promise.race([stopped, crashed]);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await worker.close().catch((err: unknown) => logger.error({ err }, 'close failed'));
      await metrics?.close();
      await model.scorer.dispose?.();
    }
    const s = worker.stats();
    const summary = { ok: fatal === undefined, signal: signalled ?? null, records: s.records, recommendations: s.recommendations, deadLetters: s.deadLetters, rebalances: s.rebalances };
    if (values['json'] === true) io.stdout.write(JSON.stringify(summary) + '\n');
    else io.stderr.write(`nextclick stream: stopped (${signalled ?? 'crash'}): ${s.records} records, ${s.recommendations} recommendations, ${s.deadLetters} dead letters\n`);
    if (fatal !== undefined) throw new NextclickError('KAFKA', `the Kafka consumer gave up: ${(fatal as Error).message}`, { retriable: true });
    return 0;
  },
};
