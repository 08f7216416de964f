import type { ClickEvent } from '../../events/click-event.js';
import { codecFor } from '../../events/msgpack-codec.js';
import { ClickLogFormats, readClickLog } from '../../data/index.js';
import { CliUsageError, numberOption, requiredString, stringOption, type CliCommand } from '../command.js';
import { parseBrokers, parseFormat } from './stream.js';
import { logReadOptions } from './train.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const command: CliCommand = {
  name: 'replay',
  summary: 'replay a log file into a Kafka topic (load generator)',
  usage: `
nextclick replay --to-kafka --input FILE --topic T --brokers H:P [options]

  --to-kafka          write the events to a Kafka topic, keyed by session id (the only target for now)
  --input FILE        click log to replay
  --log-format NAME   format of the file: tsv (default), csv, jsonl, yoochoose, diginetica, retailrocket, otto, srgnn, msgpack
  --topic T           destination topic (must exist)
  --brokers LIST      bootstrap brokers, host:port[,host:port]
  --format F          wire format: msgpack (default) | json
  --speed N           replay at N× the log's own pace (event-time gaps / N); 0 or absent: as fast as possible
  --limit N           stop after N events
  --batch N           events per produce request (default 500)
  --skip-bad-lines    skip and count unparsable lines instead of stopping at the first
  --json              print the result as one JSON object
`,
  options: {
    'to-kafka': { type: 'boolean' },
    input: { type: 'string' },
    'log-format': { type: 'string' },
    topic: { type: 'string' },
    brokers: { type: 'string' },
    format: { type: 'string' },
    speed: { type: 'string' },
    limit: { type: 'string' },
    batch: { type: 'string' },
    'skip-bad-lines': { type: 'boolean' },
  },
  async run(values, io) {
    if (values['to-kafka'] !== true) throw new CliUsageError('nextclick replay needs --to-kafka (replay into a topic); for offline evaluation use `nextclick evaluate`');
    const input = requiredString(values, 'input');
    const topic = requiredString(values, 'topic');
    const brokers = parseBrokers(requiredString(values, 'brokers'));
    const format = parseFormat(stringOption(values, 'format'));
    const readOptions = logReadOptions(values, 'log-format');
    const logFormat = readOptions.format;
    if (!ClickLogFormats.includes(logFormat)) throw new CliUsageError(`--log-format expects one of ${ClickLogFormats.join(', ')}, got "${logFormat}"`);
    const speed = numberOption(values, 'speed', 0, (n) => Number.isFinite(n) && n >= 0);
    const limit = numberOption(values, 'limit', Number.POSITIVE_INFINITY, (n) => Number.isInteger(n) && n >= 1);
    const batchSize = numberOption(values, 'batch', 500, (n) => Number.isInteger(n) && n >= 1 && n <= 100_000);

    const { EventProducer } = await import('../../../streaming/kafka/topics.js');
    const producer = new EventProducer(brokers, topic, codecFor(format));
    await producer.connect();
    const t0 = Date.now();
    let sent = 0;
    let firstEventTime: number | undefined;
    let batch: ClickEvent[] = [];
    try {
      const flush = async () => {
        await producer.send(batch);
        sent += batch.length;
        batch = [];
      };
      for await (const event of readClickLog(input, readOptions)) {
        if (sent + batch.length >= limit) break;
        if (speed > 0) {
          firstEventTime ??= event.timestamp;
          // Pace by event time: the event is due (ts - first) / speed ms after the start.
          const due = t0 + (event.timestamp - firstEventTime) / speed;
          const wait = due - Date.now();
          if (wait > 1) {
            if (batch.length > 0) await flush();
            await sleep(Math.min(wait, 60_000));
          }
        }
        batch.push(event);
        if (batch.length >= batchSize) await flush();
      }
      if (batch.length > 0) await flush();
    } finally {
      await producer.disconnect();
    }
    const seconds = (Date.now() - t0) / 1000;
    const result = { ok: true, events: sent, seconds, eventsPerSecond: seconds > 0 ? Math.round(sent / seconds) : sent, topic, format };
    if (values['json'] === true) io.stdout.write(JSON.stringify(result) + '\n');
    else io.stdout.write(`replayed ${sent} events into ${topic} (${format}) in ${seconds.toFixed(1)} s (${result.eventsPerSecond} events/s)\n`);
    return 0;
  },
};
