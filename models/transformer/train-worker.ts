/**
 * Worker thread of parallel transformer training (config `workers` > 1; see parallel-train.ts). It maps the
 * shared weights and optimiser state, builds the same training windows as the coordinator, and trains the
 * batches it is sent, checking a shared stop flag before every step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../../src/backend/select-backend.js';
import { Rng } from '../training/rng.js';
import { PopularitySampler } from '../training/sampler.js';
import { sharedArrays, type WorkerData, type ToWorker, type FromWorker } from './parallel-train.js';
import { TransformerParams } from './params.js';
import { buildWindows } from './train.js';
import { TransitionGraph } from './transitions.js';
import { TransformerStepper, trainBatches } from './train-step.js';

const port = parentPort!;
const w = workerData as WorkerData;
const post = (m: FromWorker) => port.postMessage(m);

async function main(): Promise<void> {
  await selectBackend({ backend: w.backend });
  const params = new TransformerParams(w.config, w.itemCount, sharedArrays(w.paramBuffers));
  // The same graph as the coordinator's: built from the same training sessions.
  if (w.config.transitionPrior) params.transitions = TransitionGraph.fromSessions({ items: w.items, offsets: w.offsets }, w.itemCount);
  const stepper = new TransformerStepper(params, w.config, new PopularitySampler(w.support, w.config.sampleAlpha), new Rng(w.seed), sharedArrays(w.optimizerBuffers));
  const windows = buildWindows({ items: w.items, offsets: w.offsets, ...(w.times ? { times: w.times } : {}) }, w.config.maxLength);
  port.on('message', (m: ToWorker) => {
    void (async () => {
      stepper.setSchedule(m.schedule);
      let sent = { events: 0, lossSum: 0 };
      const t = await trainBatches(stepper, (function* () { for (const b of m.batches) yield Array.from(b, (k) => windows[k]!); })(), {
        shouldStop: () => Atomics.load(w.stop, 0) !== 0,
        progress: (t) => {
          post({ type: 'progress', events: t.events - sent.events, lossSum: t.lossSum - sent.lossSum });
          sent = { events: t.events, lossSum: t.lossSum };
        },
      });
      post({ type: 'done', events: t.events - sent.events, lossSum: t.lossSum - sent.lossSum });
    })().catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) }));
  });
  post({ type: 'ready' });
}

main().catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) }));
