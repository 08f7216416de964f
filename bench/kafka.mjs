// Kafka pipeline benchmark (not a test): throughput (events/s) and event→recommendation latency through a
// loopback single-node broker, msgpack vs JSON, with a sequential-rules baseline on a synthetic catalog.
//
//   npm run build && node bench/kafka.mjs [--events 100000] [--rate 2000] [--seconds 10] [--items 5000]
//   npm run build && node bench/kafka.mjs --model DIR      # a saved model (e.g. GRU4Rec on Diginetica) instead
//
// Starts its own broker (scripts/kafka/broker.mjs) unless KAFKA_BROKERS is set. Results go to stdout as a
// table and one JSON line; bench/kafka.md records them.
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { KafkaBroker } from '../scripts/kafka/broker.mjs';
import { KafkaStreamWorker } from '../dist/streaming/kafka/stream-worker.js';
import { createTopics, EventProducer, committedLag } from '../dist/streaming/kafka/topics.js';
import { RecordHeaders } from '../dist/streaming/kafka/headers.js';
import { JsonCodec } from '../dist/src/events/codec.js';
import { MsgpackCodec } from '../dist/src/events/msgpack-codec.js';
import { ItemVocabulary } from '../dist/src/vocab/item-vocabulary.js';
import { corpusFromDense } from '../dist/src/baselines/corpus.js';
import { trainBaseline } from '../dist/src/baselines/index.js';
import { Kafka, logLevel } from 'kafkajs';

const { values } = parseArgs({ options: {
  events: { type: 'string', default: '100000' },
  rate: { type: 'string', default: '2000' },
  seconds: { type: 'string', default: '10' },
  items: { type: 'string', default: '5000' },
  modes: { type: 'string', default: 'msgpack:at-least-once,json:at-least-once,msgpack:exactly-once,json:exactly-once' },
  // A short unreported run first, so JIT warm-up does not land on whichever mode comes first.
  warmup: { type: 'string', default: '5000' },
  // A saved model directory (any kind); events are drawn over its vocabulary. Default: an sr baseline.
  model: { type: 'string' },
  // Session-state changelog on (a compacted topic per run, created by the worker).
  changelog: { type: 'boolean', default: false },
} });
let EVENTS = Number(values.events);
const RATE = Number(values.rate);
let SECONDS = Number(values.seconds);
let ITEMS = Number(values.items);
/** Maps a dense item index to the external id the events carry (the model's vocabulary when --model is given). */
let idOf = (i) => i;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rng(seed) {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}
/** Zipf-ish item popularity and Markov-ish sessions so the baseline has structure to learn. */
function makeEvents(count, sessions, seed, prefix) {
  const r = rng(seed);
  const last = new Map();
  const out = [];
  const base = Date.now() - 86_400_000;
  for (let i = 0; i < count; i++) {
    const s = `${prefix}${Math.floor(r() * sessions)}`;
    const prev = last.get(s);
    const item = prev !== undefined && r() < 0.6 ? (prev + 1 + Math.floor(r() * 3)) % ITEMS : Math.floor(ITEMS * r() ** 2);
    last.set(s, item);
    out.push({ sessionId: s, itemId: idOf(item), timestamp: base + i * 10 });
  }
  return out;
}

function trainModel() {
  const vocab = ItemVocabulary.fromIds(Array.from({ length: ITEMS }, (_, i) => i));
  const bySession = new Map();
  for (const e of makeEvents(200_000, 20_000, 99, 'train')) {
    let l = bySession.get(e.sessionId);
    if (!l) bySession.set(e.sessionId, (l = []));
    l.push(e.itemId);
  }
  return trainBaseline('sr', corpusFromDense([...bySession.values()], vocab));
}

const percentile = (sorted, p) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function runMode(brokers, format, delivery, scorer) {
  const codec = format === 'json' ? new JsonCodec() : new MsgpackCodec();
  const id = `${format}-${delivery}-${randomUUID().slice(0, 6)}`;
  const t = { input: `bench-in-${id}`, output: `bench-out-${id}`, dlq: `bench-dlq-${id}`, group: `bench-${id}` };
  await createTopics(brokers, [{ topic: t.input, partitions: 3 }, { topic: t.output, partitions: 3 }, { topic: t.dlq, partitions: 1 }]);
  const producer = new EventProducer(brokers, t.input, codec);
  await producer.connect();

  // Phase 1, throughput: a backlog of EVENTS, drained as fast as the worker can.
  const backlog = makeEvents(EVENTS, Math.max(1, EVENTS / 20), 1, 'b');
  for (let i = 0; i < backlog.length; i += 2_000) await producer.send(backlog.slice(i, i + 2_000));
  const worker = new KafkaStreamWorker(scorer, scorer.vocabulary, {
    brokers, inputTopic: t.input, outputTopic: t.output, deadLetterTopic: t.dlq, groupId: t.group, delivery,
    appId: `${t.group}-w`, codec, pipeline: { k: 20 }, rebuildRecords: 0,
    ...(values.changelog ? { changelog: true, createTopics: {} } : {}),
  });
  worker.on('crash', (c) => console.error(`worker crash (fatal=${c.fatal}): ${c.error?.message}`));
  let firstAt, firstRecords = 0, lastAt = 0;
  worker.on('batch:delivered', (b) => {
    const now = performance.now();
    if (firstAt === undefined) { firstAt = now; firstRecords = b.records; }
    lastAt = now;
  });
  await worker.start();
  for (let i = 0; i < 3_000 && worker.stats().records < EVENTS; i++) await sleep(100);
  const drained = worker.stats().records;
  const throughput = (drained - firstRecords) / ((lastAt - firstAt) / 1000);

  // Phase 2, latency: a paced stream at RATE events/s for SECONDS, measured by a live read_committed
  // consumer of the output topic from the input record's timestamp to arrival.
  const kafka = new Kafka({ clientId: 'bench-reader', brokers, logLevel: logLevel.NOTHING });
  const reader = kafka.consumer({ groupId: `${t.group}-reader`, maxWaitTimeInMs: 20, readUncommitted: false });
  await reader.connect();
  await reader.subscribe({ topics: [t.output], fromBeginning: false });
  const latencies = [];
  let joined = false;
  reader.on(reader.events.GROUP_JOIN, () => { joined = true; });
  await reader.run({ eachBatch: async ({ batch }) => {
    const now = Date.now();
    for (const m of batch.messages) {
      const ts = m.headers?.[RecordHeaders.inputTimestamp];
      if (ts !== undefined) latencies.push(now - Number(ts.toString()));
    }
  } });
  for (let i = 0; i < 300 && !joined; i++) await sleep(100);
  await sleep(1_000);
  const live = makeEvents(RATE * SECONDS, Math.max(1, RATE), 2, 'l');
  const tick = 10;
  const perTick = Math.max(1, Math.round(RATE * tick / 1000));
  const start = performance.now();
  for (let i = 0; i < live.length; i += perTick) {
    const due = start + (i / perTick) * tick;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    await producer.send(live.slice(i, i + perTick));
  }
  for (let i = 0; i < 600 && (await committedLag(brokers, t.group, t.input)) > 0; i++) await sleep(100);
  await sleep(1_500);
  await reader.disconnect();
  await worker.close();
  await producer.disconnect();
  latencies.sort((a, b) => a - b);
  return {
    format, delivery, events: drained, throughputEventsPerSec: Math.round(throughput),
    liveRate: RATE, liveEvents: live.length, latencySamples: latencies.length,
    p50ms: percentile(latencies, 0.5), p99ms: percentile(latencies, 0.99), maxMs: latencies[latencies.length - 1],
  };
}

let broker;
let brokers = process.env.KAFKA_BROKERS?.split(',');
if (!brokers) {
  broker = new KafkaBroker();
  await broker.start();
  brokers = [broker.brokers];
  console.error(`broker ${broker.brokers} started in ${broker.startMs} ms`);
}
try {
  let scorer;
  let modelLabel = `sr baseline, ${ITEMS} items`;
  if (values.model) {
    const { loadModel } = await import('../dist/index.js');
    const loaded = await loadModel(values.model);
    scorer = loaded.scorer;
    // The worker reads scorer.vocabulary, as on the baseline scorers.
    if (!scorer.vocabulary) Object.defineProperty(scorer, 'vocabulary', { value: loaded.vocabulary });
    ITEMS = loaded.vocabulary.size;
    idOf = (i) => loaded.vocabulary.idOf(i);
    modelLabel = `${loaded.manifest.kind} from ${values.model}, ${ITEMS} items`;
  } else {
    scorer = trainModel();
  }
  const results = [];
  if (Number(values.warmup) > 0) {
    const saved = { EVENTS, SECONDS };
    EVENTS = Number(values.warmup);
    SECONDS = 1;
    await runMode(brokers, 'msgpack', 'at-least-once', scorer);
    await runMode(brokers, 'json', 'exactly-once', scorer);
    ({ EVENTS, SECONDS } = saved);
  }
  for (const mode of values.modes.split(',')) {
    const [format, delivery] = mode.split(':');
    const r = await runMode(brokers, format, delivery, scorer);
    results.push(r);
    console.error(JSON.stringify(r));
  }
  console.log(`\nload average at end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}; model: ${modelLabel}, k=20; backlog ${EVENTS} events; live ${RATE}/s × ${SECONDS}s\n`);
  console.log('| format | delivery | throughput (events/s) | live p50 (ms) | live p99 (ms) | max (ms) | samples |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.format} | ${r.delivery} | ${r.throughputEventsPerSec} | ${r.p50ms} | ${r.p99ms} | ${r.maxMs} | ${r.latencySamples} |`);
  console.log(JSON.stringify({ bench: 'kafka', results }));
} finally {
  if (broker) {
    await broker.stop();
    (await import('node:fs')).rmSync(broker.dataDir, { recursive: true, force: true });
  }
}
