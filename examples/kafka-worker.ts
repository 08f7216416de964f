// A production-shaped Kafka worker: click events in, recommendations out, with the application (not the
// library) owning the process signals.
//
//   SIGTERM / SIGINT  graceful close: finish the in-flight batch, commit, disconnect, exit 0
//   SIGHUP            hot swap: reload the model directory and swap it in without stopping
//   a second signal   exit at once (the close is taking too long for the operator)
//
// Run (after `npm run build`): node dist/examples/kafka-worker.js MODEL_DIR 127.0.0.1:9092 clicks recommendations
// MODEL_DIR may hold any model kind (pop, itemknn, sr, vsknn, gru4rec, transformer): loadModel reads its kind and
// imports the neural models on first use. It imports only the package's public entry points, as an application does.
// Secure cluster: KAFKA_CA_FILE (PEM; TLS), KAFKA_CERT_FILE + KAFKA_KEY_FILE (mutual TLS), KAFKA_SASL_MECHANISM
// (plain | scram-sha-256 | scram-sha-512) with KAFKA_USERNAME and KAFKA_PASSWORD.
import { readFileSync } from 'node:fs';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { MsgpackCodec, createStderrLogger, loadModel } from 'nextclick';
import { KafkaStreamWorker, startMetricsServer } from 'nextclick/kafka';

const [modelDir, brokers = '127.0.0.1:9092', inputTopic = 'clicks', outputTopic = 'recommendations'] = process.argv.slice(2);
if (!modelDir) {
  process.stderr.write('usage: kafka-worker MODEL_DIR [BROKERS] [INPUT_TOPIC] [OUTPUT_TOPIC]\n');
  process.exit(2);
}

const env = process.env;
const file = (name: string) => (env[name] ? readFileSync(env[name]!) : undefined);
const ssl = env['KAFKA_CA_FILE'] ? { ca: file('KAFKA_CA_FILE'), cert: file('KAFKA_CERT_FILE'), key: file('KAFKA_KEY_FILE') } : undefined;
const mechanism = env['KAFKA_SASL_MECHANISM'] as 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
const sasl = mechanism ? { mechanism, username: env['KAFKA_USERNAME'] ?? '', password: env['KAFKA_PASSWORD'] ?? '' } : undefined;

const logger = createStderrLogger('info');
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const model = await loadModel(modelDir);
const worker = new KafkaStreamWorker(model.scorer, model.vocabulary, {
  brokers: brokers.split(','),
  ssl,
  sasl,
  inputTopic,
  outputTopic,
  groupId: `recommender-${inputTopic}`,
  // Creates missing topics (and the dead-letter topic `<input>.dlq`); without it a missing topic stops start().
  createTopics: {},
  delivery: 'exactly-once',
  // One app id for all instances: each input partition's transactional producer fences its previous owner.
  appId: 'recommender',
  clientId: process.env['HOSTNAME'] ?? 'local',
  codec: new MsgpackCodec(),
  registry,
  logger,
  pipeline: { k: 20, modelVersion: model.manifest.kind },
});
worker.on('crash', ({ fatal, error }) => {
  // The consumer gave up (e.g. brokers unreachable past the retries): exit non-zero so a supervisor restarts us.
  if (fatal) void shutdown('crash', 1, error);
});

const metrics = await startMetricsServer(registry, { port: Number(process.env['METRICS_PORT'] ?? 9464) });
let current = model.scorer;
let shuttingDown = false;

async function shutdown(reason: string, code: number, error?: unknown): Promise<void> {
  if (shuttingDown) {
    logger.warn({ reason }, 'second signal: exiting without waiting for close');
    process.exit(1);
  }
  shuttingDown = true;
  logger.info({ reason, err: error }, 'shutting down');
  let exitCode = code;
  try {
    await worker.close();
  } catch (err) {
    logger.error({ err }, 'close failed');
    exitCode = 1;
  }
  await metrics.close();
  await current.dispose?.();
  process.exit(exitCode);
}

process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
process.on('SIGINT', () => void shutdown('SIGINT', 0));
process.on('SIGHUP', () => {
  void (async () => {
    try {
      const next = await loadModel(modelDir);
      const old = await worker.swapModel(next.scorer, next.vocabulary, `${next.manifest.kind}@${new Date().toISOString()}`);
      current = next.scorer;
      await old.dispose?.();
      logger.info({ kind: next.manifest.kind }, 'model swapped');
    } catch (err) {
      logger.error({ err }, 'model reload failed; keeping the current model');
    }
  })();
});

await worker.start();
logger.info({ metrics: metrics.url, inputTopic, outputTopic }, 'worker running');
