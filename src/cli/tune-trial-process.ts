/**
 * Child process of `nextclick tune --parallel N`: runs one trial (tune-trial.ts) and talks to the tuning
 * process over IPC: `epoch` after each epoch (then waits for the verdict), `done` or `error` at the end.
 */
import { NextclickError } from '../errors.js';
import { runTrialJob, type FromTrialProcess, type ToTrialProcess } from './tune-trial.js';

let pendingVerdict: ((v: 'continue' | 'stop') => void) | undefined;
const send = (m: FromTrialProcess) => new Promise<void>((resolve) => process.send!(m, undefined, undefined, () => resolve()));

process.on('message', (m: ToTrialProcess) => {
  if (m.type === 'verdict') {
    pendingVerdict?.(m.verdict);
    pendingVerdict = undefined;
    return;
  }
  void (async () => {
    try {
      const kept = await runTrialJob(m.job, (epoch) => new Promise((resolve) => {
        pendingVerdict = resolve;
        void send({ type: 'epoch', epoch });
      }));
      await send({ type: 'done', kept });
    } catch (err) {
      await send({ type: 'error', message: (err as Error).message, ...(err instanceof NextclickError ? { code: err.code } : {}) });
    }
    process.disconnect();
  })();
});
// The tuning process went away (killed or cancelled): stop too.
process.on('disconnect', () => process.exit(0));
