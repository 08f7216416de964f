import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
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

/** `user:secret@host` → `***@host` (and `scheme://user:secret@…`): credentials never reach an error or a log. */
export function redactCredentials(text: string): string {
  return text.replace(/[^\s,@/]+@/g, '***@');
}

export function parseBrokers(raw: string): string[] {
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.some((b) => b.includes('@'))) {
    throw new CliUsageError(`--brokers takes host:port only, got "${redactCredentials(raw)}"; pass credentials with --sasl-mechanism and --sasl-username/--sasl-password-env (or a --config file), never in the broker list`);
  }
  if (list.length === 0 || list.some((b) => !/^[^:\s]+:\d+$/.test(b))) throw new CliUsageError(`--brokers expects host:port[,host:port...], got "${raw}"`);
  return list;
}

/**
 * `<kind>@<content hash>`: the first 12 hex digits of a SHA-256 over the model directory's files (relative
 * paths and bytes, in path order). The same model gives the same version on every server; no path leaks out.
 */
export async function modelContentVersion(kind: string, dir: string): Promise<string> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  await walk(dir);
  const hash = createHash('sha256');
  for (const f of files.map((p) => relative(dir, p).split('\\').join('/')).sort()) {
    hash.update(f).update('\0').update(await readFile(join(dir, f))).update('\0');
  }
  return `${kind}@${hash.digest('hex').slice(0, 12)}`;
}

type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

/**
 * `--config FILE`: a JSON object of this command's options by name without `--` (e.g. `"sasl-mechanism"`);
 * options given on the command line win. Secrets only by reference: a literal password key is refused.
 */
export function withConfigFile(values: Values, known: readonly string[]): Values {
  const path = stringOption(values, 'config');
  if (path === undefined) return values;
  let file: unknown;
  try {
    file = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliUsageError(`--config ${path}: not a readable JSON file (${(err as Error).message})`);
  }
  if (file === null || typeof file !== 'object' || Array.isArray(file)) throw new CliUsageError(`--config ${path}: expected a JSON object of option names and values`);
  const merged: Values = {};
  for (const [k, v] of Object.entries(file as Record<string, unknown>)) {
    if (/password|secret|token/i.test(k) && !/-(env|file)$/.test(k)) throw new CliUsageError(`--config ${path}: "${k}" is not accepted; give secrets by reference (sasl-password-env or sasl-password-file)`);
    if (!known.includes(k) || k === 'config') throw new CliUsageError(`--config ${path}: unknown option "${k}"`);
    if (typeof v !== 'string' && typeof v !== 'boolean' && typeof v !== 'number') throw new CliUsageError(`--config ${path}: "${k}" must be a string, number or boolean`);
    merged[k] = typeof v === 'number' ? String(v) : v;
  }
  for (const [k, v] of Object.entries(values)) if (v !== undefined) merged[k] = v;
  return merged;
}

/** TLS and SASL from the options; secrets are read from an environment variable or a file, never from argv. */
export function connectionFromOptions(values: Values): { ssl?: true | { ca?: Buffer; cert?: Buffer; key?: Buffer; passphrase?: string }; sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } } {
  const file = (name: string): Buffer | undefined => {
    const p = stringOption(values, name);
    if (p === undefined) return undefined;
    try {
      return readFileSync(p);
    } catch (err) {
      throw new CliUsageError(`--${name} ${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const secret = (base: string): string | undefined => {
    const env = stringOption(values, `${base}-env`);
    const path = stringOption(values, `${base}-file`);
    if (env !== undefined && path !== undefined) throw new CliUsageError(`give one of --${base}-env and --${base}-file`);
    if (env !== undefined) {
      const v = process.env[env];
      if (v === undefined || v === '') throw new CliUsageError(`--${base}-env ${env}: the environment variable is not set`);
      return v;
    }
    if (path !== undefined) return file(`${base}-file`)!.toString('utf8').replace(/\r?\n$/, '');
    return undefined;
  };
  const ca = file('ssl-ca');
  const cert = file('ssl-cert');
  const key = file('ssl-key');
  const passphrase = secret('ssl-key-password');
  const tls = ca || cert || key ? { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(passphrase ? { passphrase } : {}) } : undefined;
  const ssl = tls ?? (values['ssl'] === true ? true : undefined);
  const mechanism = stringOption(values, 'sasl-mechanism');
  if (mechanism === undefined) {
    if (stringOption(values, 'sasl-username') !== undefined) throw new CliUsageError('--sasl-username needs --sasl-mechanism');
    return ssl === undefined ? {} : { ssl };
  }
  if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') throw new CliUsageError(`--sasl-mechanism expects plain|scram-sha-256|scram-sha-512 (OAUTHBEARER: library option sasl.oauthBearerProvider), got "${mechanism}"`);
  const username = stringOption(values, 'sasl-username');
  if (username === undefined || username === '') throw new CliUsageError('--sasl-mechanism needs --sasl-username');
  const password = secret('sasl-password');
  if (password === undefined) throw new CliUsageError('--sasl-mechanism needs --sasl-password-env VAR or --sasl-password-file PATH (never the password itself)');
  return { ...(ssl === undefined ? {} : { ssl }), sasl: { mechanism, username, password } };
}

function parseOov(raw: string | undefined): 'ignore' | 'recommend-popular' | 'error' {
  const v = raw ?? 'ignore';
  if (v !== 'ignore' && v !== 'recommend-popular' && v !== 'error') throw new CliUsageError(`--oov expects ignore|recommend-popular|error, got "${v}"`);
  return v;
}

function parseCompression(raw: string | undefined): 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd' {
  const v = raw ?? 'none';
  if (!['none', 'gzip', 'snappy', 'lz4', 'zstd'].includes(v)) throw new CliUsageError(`--compression expects none|gzip|snappy|lz4|zstd, got "${v}"`);
  return v as 'none';
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
  --client-id ID         Kafka client id, stable per worker instance (default nextclick-worker)
  --exactly-once         transactional delivery (consumers must read read_committed); default at-least-once
  --app-id ID            exactly-once: the same for all workers of the app; transactional ids are
                         <app-id>-<input-topic>-<partition> (default: the group)
  --create-topics        create missing input/output/DLQ/changelog topics (otherwise a missing one exits 2)
  --partitions N         partitions of created topics (default: the input topic's, else 3)
  --replication-factor N replication factor of created topics (default: the broker's)
  --format F             msgpack (default) | json, for input and output
  --compression C        none (default) | gzip | snappy | lz4 | zstd, of output batches (input: any codec)
  --k N                  recommendations per event (default 20)
  --oov P                unknown items: ignore (default; an unknown first event answers nothing) |
                         recommend-popular (answer it with the model's most frequent items) | error (DLQ it)
  --max-sessions N       live sessions kept per partition; least recently used evicted beyond (default 1000000)
  --max-future-ms N      dead-letter events further ahead of the wall clock (default 86400000, one day)
  --max-past-ms N        dead-letter events further behind the wall clock (default: no limit after 2000-01-01)
  --rebuild-records N    records re-read per newly assigned partition to rebuild sessions (default 5000;
                         with --changelog, only for partitions the changelog has no state for yet)
  --changelog            exact state recovery: write session state to a compacted changelog topic and
                         restore a newly assigned partition from it (off by default: one more topic)
  --changelog-topic T    its name (implies --changelog; default <app-id>-<input-topic>-changelog);
                         --create-topics creates it compacted, otherwise a missing one exits 2
  --ssl                  TLS with the system CAs (implied by the --ssl-* files)
  --ssl-ca FILE          PEM CA certificate(s) of the brokers
  --ssl-cert FILE        PEM client certificate, --ssl-key FILE its key (mutual TLS)
  --ssl-key-password-env VAR | --ssl-key-password-file PATH   passphrase of an encrypted key
  --sasl-mechanism M     plain | scram-sha-256 | scram-sha-512
  --sasl-username U      SASL user
  --sasl-password-env VAR | --sasl-password-file PATH        its password (never on the command line)
  --config FILE          JSON object of these options by name, e.g. {"sasl-mechanism": "scram-sha-512"};
                         command-line options win; secrets only as *-env / *-file references
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
    'client-id': { type: 'string' },
    'exactly-once': { type: 'boolean' },
    'app-id': { type: 'string' },
    'create-topics': { type: 'boolean' },
    partitions: { type: 'string' },
    'replication-factor': { type: 'string' },
    format: { type: 'string' },
    compression: { type: 'string' },
    k: { type: 'string' },
    oov: { type: 'string' },
    'max-sessions': { type: 'string' },
    'max-future-ms': { type: 'string' },
    'max-past-ms': { type: 'string' },
    'rebuild-records': { type: 'string' },
    changelog: { type: 'boolean' },
    'changelog-topic': { type: 'string' },
    'metrics-port': { type: 'string' },
    'log-level': { type: 'string' },
    ssl: { type: 'boolean' },
    'ssl-ca': { type: 'string' },
    'ssl-cert': { type: 'string' },
    'ssl-key': { type: 'string' },
    'ssl-key-password-env': { type: 'string' },
    'ssl-key-password-file': { type: 'string' },
    'sasl-mechanism': { type: 'string' },
    'sasl-username': { type: 'string' },
    'sasl-password-env': { type: 'string' },
    'sasl-password-file': { type: 'string' },
    config: { type: 'string' },
  },
  async run(argv, io) {
    const values = withConfigFile(argv, Object.keys(command.options));
    const connection = connectionFromOptions(values);
    const modelDir = requiredString(values, 'model');
    const brokers = parseBrokers(requiredString(values, 'brokers'));
    const inputTopic = requiredString(values, 'input-topic');
    const outputTopic = requiredString(values, 'output-topic');
    const format = parseFormat(stringOption(values, 'format'));
    const k = numberOption(values, 'k', 20, (n) => Number.isInteger(n) && n >= 1);
    const oov = parseOov(stringOption(values, 'oov'));
    const compression = parseCompression(stringOption(values, 'compression'));
    const maxSessions = numberOption(values, 'max-sessions', 1_000_000, (n) => Number.isInteger(n) && n >= 1);
    const maxFutureMs = numberOption(values, 'max-future-ms', 86_400_000, (n) => Number.isFinite(n) && n >= 0);
    const maxPastMs = values['max-past-ms'] === undefined ? undefined : numberOption(values, 'max-past-ms', 0, (n) => Number.isFinite(n) && n >= 0);
    const intOrUndefined = (name: string) => (values[name] === undefined ? undefined : numberOption(values, name, 1, (n) => Number.isInteger(n) && n >= 1));
    const createTopics = values['create-topics'] === true ? { partitions: intOrUndefined('partitions'), replicationFactor: intOrUndefined('replication-factor') } : undefined;
    if (!createTopics && (values['partitions'] !== undefined || values['replication-factor'] !== undefined)) throw new CliUsageError('--partitions and --replication-factor apply only with --create-topics');
    const changelogTopic = stringOption(values, 'changelog-topic');
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
    const modelVersion = await modelContentVersion(model.manifest.kind, modelDir);
    const { KafkaStreamWorker } = await import('../../../streaming/kafka/stream-worker.js');
    const { startMetricsServer } = await import('../../../streaming/metrics-server.js');
    const { Registry, collectDefaultMetrics } = await import('prom-client');
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const worker = new KafkaStreamWorker(model.scorer, model.vocabulary, {
      brokers, inputTopic, outputTopic, ...connection,
      deadLetterTopic: stringOption(values, 'dlq-topic'),
      groupId: stringOption(values, 'group') ?? `nextclick-${inputTopic}`,
      clientId: stringOption(values, 'client-id'),
      delivery: values['exactly-once'] === true ? 'exactly-once' : 'at-least-once',
      appId: stringOption(values, 'app-id'),
      createTopics,
      codec: codecFor(format),
      compression,
      maxFutureMs,
      maxPastMs,
      rebuildRecords,
      changelog: changelogTopic !== undefined ? { topic: changelogTopic } : values['changelog'] === true,
      pipeline: { k, oov, modelVersion, sessions: { maxSessions } },
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
      io.stderr.write(`nextclick stream: ${inputTopic} → ${outputTopic} (${format}, ${values['exactly-once'] ? 'exactly-once' : 'at-least-once'}, model ${modelVersion}); Ctrl-C stops\n`);
      await Promise.race([stopped, crashed]);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await worker.close().catch((err: unknown) => logger.error({ err }, 'close failed'));
      await metrics?.close();
      await model.scorer.dispose?.();
    }
    const s = worker.stats();
    const summary = { ok: fatal === undefined, signal: signalled ?? null, records: s.records, recommendations: s.recommendations, deadLetters: s.deadLetters, rebalances: s.rebalances, restoredSessions: s.restoredSessions, changelogRecords: s.changelogRecords };
    if (values['json'] === true) io.stdout.write(JSON.stringify(summary) + '\n');
    else io.stderr.write(`nextclick stream: stopped (${signalled ?? 'crash'}): ${s.records} records, ${s.recommendations} recommendations, ${s.deadLetters} dead letters\n`);
    if (fatal !== undefined) throw new NextclickError('KAFKA', `the Kafka consumer gave up: ${(fatal as Error).message}`, { retriable: true });
    return 0;
  },
};
