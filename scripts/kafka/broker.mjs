// Single-node Apache Kafka (KRaft, broker+controller) on 127.0.0.1 for development, tests and benchmarks.
// No Docker: the broker's jars come from Maven Central (scripts/kafka/pom.xml → .cache/kafka/libs, a one-off
// download cached in ~/.m2), storage is formatted with kafka.tools.StorageTool and kafka.Kafka runs as a
// child process. Java (17+) is the one prerequisite: Maven resolves the jars the first time when present,
// otherwise they are downloaded from Maven Central as pinned (SHA-1) in jars.lock.
//
// API (see broker.d.mts): findJava, ensureKafkaClasspath, freePort, KafkaBroker {start, stop, kill, restart}.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, openSync, closeSync, renameSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { basename, join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
export const projectRoot = resolve(here, '..', '..');
export const defaultCacheDir = join(projectRoot, '.cache', 'kafka');
export const KAFKA_VERSION = '3.9.1';

/** Returns `{ java, version }` for $NEXTCLICK_JAVA, else $JAVA_HOME/bin/java, else java on PATH; undefined when none runs. */
export function findJava() {
  const candidates = [];
  // NEXTCLICK_JAVA picks one java binary (several JDKs installed; or a bogus path to try the no-Java path).
  if (process.env.NEXTCLICK_JAVA) candidates.push(process.env.NEXTCLICK_JAVA);
  else {
    if (process.env.JAVA_HOME) candidates.push(join(process.env.JAVA_HOME, 'bin', 'java'));
    candidates.push('java');
  }
  for (const java of candidates) {
    const r = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status === 0) {
      const m = /version "(\d+)/.exec(r.stderr ?? '');
      return { java, version: m ? Number(m[1]) : 0 };
    }
  }
  return undefined;
}

/**
 * Makes sure the broker's jars are in `<cacheDir>/libs` and resolves to that folder. The first time it runs
 * `mvn -q dependency:copy-dependencies` on pom.xml; without Maven (or with NEXTCLICK_KAFKA_NO_MAVEN=1) it
 * downloads the same jars straight from Maven Central as pinned in jars.lock (path + SHA-1), so Java is the
 * only prerequisite. Later calls only check the marker file.
 */
export async function ensureKafkaClasspath(cacheDir = defaultCacheDir) {
  const libs = join(cacheDir, 'libs');
  const marker = join(cacheDir, `libs-${KAFKA_VERSION}.ok`);
  if (existsSync(marker) && existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) return libs;
  mkdirSync(libs, { recursive: true });
  const mvn = process.env.NEXTCLICK_KAFKA_NO_MAVEN === '1' ? { status: 1 } : spawnSync('mvn', ['-v'], { encoding: 'utf8', timeout: 60_000 });
  if (mvn.status === 0) {
    const r = spawnSync('mvn', ['-q', '-B', '-f', join(here, 'pom.xml'), 'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`, '-DincludeScope=runtime', `-Dkafka.version=${KAFKA_VERSION}`],
    { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) {
      throw new Error(`mvn dependency:copy-dependencies failed (exit ${r.status}); is Maven Central reachable?\n${r.stdout}\n${r.stderr}`);
    }
  } else {
    await downloadPinnedJars(libs);
  }
  writeFileSync(marker, new Date().toISOString() + '\n');
  return libs;
}

const MAVEN_CENTRAL = process.env.NEXTCLICK_MAVEN_REPO ?? 'https://repo1.maven.org/maven2';

async function downloadPinnedJars(libs) {
  const lines = readFileSync(join(here, 'jars.lock'), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const queue = lines.map((l) => l.trim().split(/\s+/));
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [path, sha1] = next;
      const target = join(libs, basename(path));
      if (existsSync(target) && createHash('sha1').update(readFileSync(target)).digest('hex') === sha1) continue;
      const res = await fetch(`${MAVEN_CENTRAL}/${path}`, { signal: AbortSignal.timeout(120_000) });
      if (!res.ok) throw new Error(`download of ${path} from ${MAVEN_CENTRAL} failed: HTTP ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      const got = createHash('sha1').update(bytes).digest('hex');
      if (got !== sha1) throw new Error(`${path}: SHA-1 ${got} does not match jars.lock (${sha1}); refusing to use it`);
      writeFileSync(`${target}.part`, bytes);
      renameSync(`${target}.part`, target);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function canConnect(port) {
  return new Promise((res) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const done = (ok) => { sock.destroy(); res(ok); };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Small partition counts for the internal topics: the defaults (50) make the first consumer group and the
// first transaction take seconds on a 2-core machine.
function serverProperties({ dataDir, port, controllerPort, nodeId, saslSsl, saslSslPort }) {
  const secure = saslSsl ? `,SASL_SSL://127.0.0.1:${saslSslPort}` : '';
  return [
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    `controller.quorum.voters=${nodeId}@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${secure}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}${secure}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${saslSsl ? ',SASL_SSL:SASL_SSL' : ''}`,
    ...(saslSsl ? saslSslProperties(saslSsl) : []),
    `log.dirs=${join(dataDir, 'logs')}`,
    'num.partitions=3',
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=3',
    'min.insync.replicas=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'num.network.threads=2',
    'num.io.threads=4',
    'log.retention.hours=2',
    'log.segment.bytes=67108864',
    'message.max.bytes=4194304',
    'replica.fetch.max.bytes=4194304',
    // A killed broker recovers in a fresh process; keep the post-crash log recovery quick.
    'num.recovery.threads.per.data.dir=2',
    'transaction.abort.timed.out.transaction.cleanup.interval.ms=5000',
    'transaction.remove.expired.transaction.cleanup.interval.ms=60000',
    'group.min.session.timeout.ms=1000',
    // After kill -9 the restarted broker waits for its previous registration to expire; keep that short.
    'broker.session.timeout.ms=3000',
    'broker.heartbeat.interval.ms=500',
    '',
  ].join('\n');
}

/**
 * The SASL_SSL listener: TLS with the given PEM key store (private key + certificate chain) and PEM trust store
 * (CAs of client certificates), client certificates `clientAuth` (required: mTLS), SASL PLAIN (users from
 * `plainUsers`), SCRAM-SHA-256/512 (credentials added at storage format, see `scramUsers`) and OAUTHBEARER with
 * Kafka's unsecured-JWS validator (development only: it trusts any unsigned token).
 */
function saslSslProperties(o) {
  const jaasString = (v) => JSON.stringify(String(v));
  const plainUsers = Object.entries(o.plainUsers ?? {}).map(([u, p]) => `user_${u}=${jaasString(p)}`).join(' ');
  return [
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${o.keyStorePem}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${o.trustStorePem}`,
    // KIP-684: on a SASL_SSL listener only the listener-prefixed setting asks for client certificates.
    `listener.name.sasl_ssl.ssl.client.auth=${o.clientAuth ?? 'none'}`,
  ];
}

const log4j = [
  'log4j.rootLogger=WARN, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  // The one INFO line we wait for: "[KafkaRaftServer nodeId=1] Kafka Server started".
  'log4j.logger.kafka.server.KafkaRaftServer=INFO',
  '',
].join('\n');

/**
 * One broker process on a data dir and fixed ports, so it can be killed (-9) and restarted on the same
 * address with its data. Options: dataDir (default: a new temp dir), port / controllerPort (default: free
 * ports), cacheDir, heapMb (default 512), startTimeoutMs (default 90 s).
 */
export class KafkaBroker {
  constructor(options = {}) {
    this.options = options;
    // Created on the first start, so constructing a broker (e.g. in a skipped test suite) leaves nothing behind.
    this.dataDir = options.dataDir;
    this.port = options.port;
    this.controllerPort = options.controllerPort;
    this.nodeId = 1;
    this.child = undefined;
    this.exited = undefined;
    this.startMs = undefined;
  }

  /** `127.0.0.1:<port>` (valid after start). */
  get brokers() {
    return `127.0.0.1:${this.port}`;
  }

  /** `127.0.0.1:<port>` of the SASL_SSL listener (with the `saslSsl` option, after start). */
  get saslSslBrokers() {
    return `127.0.0.1:${this.saslSslPort}`;
  }

  get pid() {
    return this.child?.pid;
  }

  get running() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Formats storage (first time only), starts kafka.Kafka, resolves once it accepts clients. */
  async start() {
    if (this.running) throw new Error(`Kafka broker already running (pid ${this.child.pid})`);
    const t0 = Date.now();
    const javaInfo = findJava();
    if (!javaInfo) throw new Error('Java is not installed (need Java 17+ for the Kafka broker): install a JDK, e.g. `apt-get install openjdk-17-jre-headless`.');
    const libs = await ensureKafkaClasspath(this.options.cacheDir);
    this.dataDir ??= mkdtempSync(join(tmpdir(), 'nextclick-kafka-'));
    this.port ??= await freePort();
    this.controllerPort ??= await freePort();
    const saslSsl = this.options.saslSsl;
    if (saslSsl) this.saslSslPort ??= await freePort();
    mkdirSync(this.dataDir, { recursive: true });
    const props = join(this.dataDir, 'server.properties');
    writeFileSync(props, serverProperties({ dataDir: this.dataDir, port: this.port, controllerPort: this.controllerPort, nodeId: this.nodeId, saslSsl, saslSslPort: this.saslSslPort }));
    writeFileSync(join(this.dataDir, 'log4j.properties'), log4j);
    const cp = join(libs, '*');
    const jvm = [
      `-Xmx${this.options.heapMb ?? 512}m`, '-Xms128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${join(this.dataDir, 'log4j.properties')}`,
      '-cp', cp,
    ];
    if (!existsSync(join(this.dataDir, 'logs', 'meta.properties'))) {
      // KRaft cluster ids are 16 random bytes, base64url (22 chars).
      // Like Kafka's own Uuid.randomUuid, never start with '-': the tool's argument parser would take it for a flag.
      let clusterId = randomBytes(16).toString('base64url');
      for (let i = 0; i < 100 && clusterId.startsWith('-'); i++) clusterId = randomBytes(16).toString('base64url');
      // SCRAM credentials live in the cluster metadata; KRaft adds them when the storage is formatted (KIP-900).
      const scram = Object.entries(saslSsl?.scramUsers ?? {}).flatMap(([u, p]) => ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${u},password=${p}]`]));
      const fmt = spawnSync(javaInfo.java, [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props, '--ignore-formatted', ...scram],
        { encoding: 'utf8', timeout: 120_000 });
      if (fmt.status !== 0) throw new Error(`kafka StorageTool format failed (exit ${fmt.status}):\n${fmt.stdout}\n${fmt.stderr}`);
    }
    const logPath = join(this.dataDir, 'broker.log');
    const logStart = existsSync(logPath) ? readFileSync(logPath).length : 0;
    const fd = openSync(logPath, 'a');
    this.logPath = logPath;
    const child = spawn(javaInfo.java, [...jvm, 'kafka.Kafka', props], { stdio: ['ignore', fd, fd], detached: false });
    closeSync(fd);
    this.child = child;
    // Never leave an orphan JVM behind when the owning Node process exits (tests, benchmarks): an exit hook for
    // normal exits, and a watchdog shell for deaths by signal, which run no hooks.
    const reap = () => { try { child.kill('SIGKILL'); } catch { /* already gone */ } };
    process.once('exit', reap);
    const watchdog = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; kill -9 ${child.pid} 2>/dev/null`],
      { stdio: 'ignore', detached: true });
    watchdog.unref();
    child.once('exit', () => {
      process.off('exit', reap);
      try { watchdog.kill('SIGKILL'); } catch { /* already gone */ }
    });
    this.exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 90_000);
    let ready = false;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`Kafka broker exited during start-up; see ${logPath}:\n${tail(logPath)}`);
      if (readFileSync(logPath).subarray(logStart).includes('Kafka Server started') && await canConnect(this.port)) { ready = true; break; }
      await sleep(100);
    }
    if (!ready) {
      await this.kill();
      throw new Error(`Kafka broker did not start within ${this.options.startTimeoutMs ?? 90_000} ms; see ${logPath}:\n${tail(logPath)}`);
    }
    this.startMs = Date.now() - t0;
    return this;
  }

  /** Clean shutdown (SIGTERM, controlled shutdown); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 30_000) {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    let timer;
    const timeout = new Promise((res) => { timer = setTimeout(() => res('timeout'), timeoutMs); });
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') await this.kill();
  }

  /** kill -9: no shutdown, unflushed data is recovered on the next start. */
  async kill() {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Starts again on the same data dir and ports. */
  async restart() {
    await this.stop();
    return this.start();
  }
}

function tail(path, lines = 30) {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
