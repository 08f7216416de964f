import { parseArgs } from 'node:util';
import { NextclickError } from '../errors.js';
import type { CliCommand, CliIo } from './command.js';

/** Commands are imported lazily so `nextclick evaluate` never loads kafkajs or TensorFlow.js it does not need. */
const commands: Record<string, () => Promise<{ command: CliCommand }>> = {
  demo: () => import('./commands/demo.js'),
  prepare: () => import('./commands/prepare.js'),
  train: () => import('./commands/train.js'),
  evaluate: () => import('./commands/evaluate.js'),
  stream: () => import('./commands/stream.js'),
  replay: () => import('./commands/replay.js'),
  setup: () => import('./commands/setup.js'),
};

const summaries: Record<string, string> = {
  demo: 'generate a synthetic log, train the models, replay and print metrics (no files, no Kafka)',
  prepare: 'turn a raw click log into train/test files (sessions, filters, time split)',
  train: 'train a model on a prepared log and save it to a directory',
  evaluate: 'replay a test log through a model and report HR/MRR/NDCG@K',
  stream: 'run the Kafka worker: click events in, recommendations out',
  replay: 'replay a log file into a Kafka topic (load generator)',
  setup: 'build an optional backend: `setup tensorflow [--gpu]` (native TensorFlow from PyPI + npm)',
};

function help(): string {
  const lines = ['Usage: nextclick <command> [options]', '', 'Commands:'];
  for (const [name, s] of Object.entries(summaries)) lines.push(`  ${name.padEnd(10)} ${s}`);
  lines.push('', 'Run `nextclick <command> --help` for its options. Every command accepts --json.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write('nextclick 0.1.0\n');
    return 0;
  }
  const load = commands[name];
  if (!load) {
    io.stderr.write(`nextclick: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  let command: CliCommand;
  try {
    ({ command } = await load());
  } catch (err) {
    io.stderr.write(`nextclick: command "${name}" is not available in this build: ${(err as Error).message}\n`);
    return 1;
  }
  const json = rest.includes('--json');
  if (name === 'train' || name === 'evaluate' || name === 'demo' || name === 'stream') await announceBackend(io);
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(`${command.usage.trim()}\n`);
      return 0;
    }
    const { values, positionals } = parseArgs({ args: rest, options: { ...command.options, json: { type: 'boolean' } }, strict: true, allowPositionals: command.positionals === true });
    return await command.run(values, io, positionals);
  } catch (err) {
    return reportError(err, json, io, command.usage);
  }
}

/**
 * One clear stderr line naming the TensorFlow.js backend the models run on and why faster ones were not
 * used (a failed native load is never hidden). stdout stays clean for --json.
 */
async function announceBackend(io: CliIo): Promise<void> {
  const { backendEvents } = await import('../backend/select-backend.js');
  backendEvents.on('selected', (sel) => {
    const failed = sel.attempts.filter((a) => !a.ok).map((a) => `${a.backend}: ${a.error ?? 'unavailable'}`);
    const adapter = sel.adapter ? ` on ${sel.adapter}` : '';
    io.stderr.write(`nextclick: TensorFlow.js backend "${sel.backend}"${adapter} (${sel.source})${failed.length ? `; not used: ${failed.join('; ')}` : ''}\n`);
  });
}

function reportError(err: unknown, json: boolean, io: CliIo, usage: string): number {
  const isUsage = err instanceof NextclickError
    ? err.code === 'INVALID_OPTION' || err.code === 'INVALID_INPUT' || err.code === 'FILE_NOT_FOUND' || err.code === 'PARSE_FAILED'
    : (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ?? false;
  if (json) {
    const body = err instanceof NextclickError ? err.toJSON() : { name: (err as Error).name, message: (err as Error).message };
    io.stdout.write(JSON.stringify({ ok: false, error: body }) + '\n');
  } else {
    const code = err instanceof NextclickError ? ` [${err.code}]` : '';
    io.stderr.write(`nextclick: ${(err as Error).message}${code}\n`);
    if (isUsage && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) io.stderr.write(`\n${usage.trim()}\n`);
    if (!isUsage && !(err instanceof NextclickError) && process.env['NEXTCLICK_DEBUG']) io.stderr.write(`${(err as Error).stack}\n`);
  }
  return isUsage ? 2 : 1;
}
