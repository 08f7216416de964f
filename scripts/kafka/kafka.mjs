#!/usr/bin/env node
// Development entry: `node scripts/kafka/kafka.mjs provision` resolves the jars; `... start [--port N]
// [--data-dir D]` runs a single-node KRaft broker on 127.0.0.1 in the foreground until Ctrl-C.
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import { ensureKafkaClasspath, findJava, KafkaBroker } from './broker.mjs';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, runs: { type: 'string', default: '5' } },
});
const cmd = positionals[0] ?? 'start';
if (!findJava()) {
  console.error('Java 17+ is required for the Kafka broker (e.g. `apt-get install openjdk-17-jre-headless`).');
  process.exit(1);
}
if (cmd === 'provision') {
  const t0 = Date.now();
  console.log(`Kafka jars in ${await ensureKafkaClasspath()} (${Date.now() - t0} ms)`);
} else if (cmd === 'start') {
  const broker = new KafkaBroker({ port: values.port ? Number(values.port) : undefined, dataDir: values['data-dir'] });
  await broker.start();
  console.log(`Kafka ${broker.brokers} ready in ${broker.startMs} ms (data ${broker.dataDir}, log ${broker.logPath}). Ctrl-C stops it.`);
  console.log(`export KAFKA_BROKERS=${broker.brokers}`);
  const stop = () => { broker.stop().then(() => process.exit(0), () => process.exit(1)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} else if (cmd === 'measure') {
  // Start-up time: fresh data dir (format + start until ready), then kill -9 and restart on the same data.
  const fresh = [];
  const afterKill = [];
  const stop = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const broker = new KafkaBroker();
    await broker.start();
    fresh.push(broker.startMs);
    await broker.kill();
    await broker.start();
    afterKill.push(broker.startMs);
    const t0 = Date.now();
    await broker.stop();
    stop.push(Date.now() - t0);
    rmSync(broker.dataDir, { recursive: true, force: true });
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(JSON.stringify({ freshStartMs: fresh, restartAfterKill9Ms: afterKill, cleanStopMs: stop, medians: { fresh: median(fresh), restartAfterKill9: median(afterKill), cleanStop: median(stop) } }));
} else {
  console.error('usage: node scripts/kafka/kafka.mjs provision|start|measure [--port N] [--data-dir D] [--runs N]');
  process.exit(2);
}
