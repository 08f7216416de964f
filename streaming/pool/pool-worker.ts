// Worker-thread side of RecommenderPool: one model copy and one session store per thread.
import { parentPort, workerData } from 'node:worker_threads';
import { Recommender } from '../../src/scoring/recommender.js';
import type { PoolReply, PoolRequest, PoolWorkerData } from './protocol.js';
import { serializeError } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('pool-worker must run in a worker thread');
const data = workerData as PoolWorkerData;
const send = (m: PoolReply) => port.postMessage(m);

let rec: Recommender;
try {
  rec = await Recommender.load(data.modelDir, data.options);
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'init-failed', error: serializeError(err) });
  process.exit(1);
}

port.on('message', (msg: PoolRequest) => {
  void handle(msg);
});

async function handle(msg: PoolRequest): Promise<void> {
  switch (msg.type) {
    case 'observe': {
      // All events of the message are pushed at once so the pipeline scores them in one micro-batch.
      const settled = await Promise.allSettled(msg.events.map((e) => rec.observe(e)));
      send({ type: 'results', ids: msg.ids, results: settled.map((s) => (s.status === 'fulfilled' ? (s.value ?? null) : serializeError(s.reason))) });
      return;
    }
    case 'recommend':
      try {
        const r = await rec.recommend(msg.sessionId, { ...(msg.k !== undefined ? { k: msg.k } : {}), ...(msg.exclude ? { exclude: msg.exclude } : {}), ...(msg.excludeSeen !== undefined ? { excludeSeen: msg.excludeSeen } : {}) });
        send({ type: 'result', id: msg.id, result: r ?? null });
      } catch (err) {
        send({ type: 'result', id: msg.id, result: null, error: serializeError(err) });
      }
      return;
    case 'stats':
      send({ type: 'result', id: msg.id, result: rec.stats() });
      return;
    case 'close':
      try {
        await rec.close();
        send({ type: 'result', id: msg.id, result: null });
      } catch (err) {
        send({ type: 'result', id: msg.id, result: null, error: serializeError(err) });
      }
      return;
  }
}
