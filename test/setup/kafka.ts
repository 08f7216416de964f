// vitest globalSetup: provides a Kafka broker address to tests (inject('kafkaBrokers')).
// - KAFKA_BROKERS set: use that cluster.
// - otherwise: start a single-node KRaft broker on 127.0.0.1 (scripts/kafka/broker.mjs) and stop it after.
// - no Java: Kafka tests skip with a loud message, or fail when NEXTCLICK_REQUIRE_KAFKA=1 (CI).
// It also bundles the child-process worker fixture with esbuild, so SIGKILL tests need no `npm run build`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureKafkaClasspath, findJava, KafkaBroker, projectRoot } from '../../scripts/kafka/broker.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `host:port` list, comma-separated; '' when Kafka tests must skip. */
    kafkaBrokers: string;
    /** Why Kafka tests skip ('' when they run). */
    kafkaSkipReason: string;
    /** True when this machine can start its own brokers (Java + jars), for broker kill -9 tests. */
    kafkaCanStartBrokers: boolean;
    /** Path of the bundled worker fixture (.mjs) for child-process tests; '' when Kafka tests skip. */
    kafkaWorkerBundle: string;
  }
}

function selectedFilesNeedKafka(): boolean {
  // `vitest run test/src/...` should not pay for a broker; no filter (plain `npm test`) means everything.
  const args = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run' && a !== 'watch' && !a.endsWith('vitest') && !a.endsWith('.mjs') && !a.endsWith('.js'));
  if (args.length === 0) return true;
  return args.some((a) => /streaming|kafka|^test\/?$/.test(a));
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const required = process.env['NEXTCLICK_REQUIRE_KAFKA'] === '1';
  const skip = (reason: string) => {
    if (required) throw new Error(`NEXTCLICK_REQUIRE_KAFKA=1 but Kafka tests cannot run: ${reason}`);
    const bar = '!'.repeat(100);
    process.stderr.write(`\n${bar}\n!! KAFKA TESTS SKIPPED: ${reason}\n!! Enable them: install Java 17+ (the broker jars come from Maven Central once, via mvn or scripts/kafka/jars.lock),\n!! or point KAFKA_BROKERS=host:port at a running cluster. CI sets NEXTCLICK_REQUIRE_KAFKA=1 to make this an error.\n${bar}\n\n`);
    project.provide('kafkaBrokers', '');
    project.provide('kafkaSkipReason', reason);
    project.provide('kafkaCanStartBrokers', false);
    project.provide('kafkaWorkerBundle', '');
  };
  if (!required && !selectedFilesNeedKafka()) {
    project.provide('kafkaBrokers', '');
    project.provide('kafkaSkipReason', 'no Kafka test files selected');
    project.provide('kafkaCanStartBrokers', false);
    project.provide('kafkaWorkerBundle', '');
    return async () => {};
  }
  const java = findJava();
  let canStart = false;
  if (java) {
    try {
      await ensureKafkaClasspath();
      canStart = true;
    } catch (err) {
      if (!process.env['KAFKA_BROKERS']) {
        skip((err as Error).message);
        return async () => {};
      }
    }
  }
  const external = process.env['KAFKA_BROKERS'];
  let broker: KafkaBroker | undefined;
  if (!external) {
    if (!java) {
      skip('Java is not installed and KAFKA_BROKERS is not set');
      return async () => {};
    }
    broker = new KafkaBroker();
    await broker.start();
    process.stderr.write(`[kafka] broker ${broker.brokers} started in ${broker.startMs} ms (data ${broker.dataDir})\n`);
  }
  // Inside the project so the bundle's bare imports (kafkajs, msgpackr) resolve from node_modules.
  mkdirSync(join(projectRoot, '.cache', 'kafka'), { recursive: true });
  const bundleDir = mkdtempSync(join(projectRoot, '.cache', 'kafka', 'worker-'));
  const bundle = join(bundleDir, 'worker.mjs');
  const { build, stop } = await import('esbuild');
  await build({
    entryPoints: [join(projectRoot, 'test/streaming/fixtures/worker.ts')],
    bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: bundle, logLevel: 'error',
  });
  // esbuild keeps a service process alive otherwise, and vitest would wait for it at exit.
  await stop();
  project.provide('kafkaBrokers', external ?? broker!.brokers);
  project.provide('kafkaSkipReason', '');
  project.provide('kafkaCanStartBrokers', canStart);
  project.provide('kafkaWorkerBundle', bundle);
  return async () => {
    rmSync(bundleDir, { recursive: true, force: true });
    if (broker) {
      await broker.stop();
      if (broker.dataDir) rmSync(broker.dataDir, { recursive: true, force: true });
    }
  };
}
