import { parseArgs } from 'node:util';
import { NextclickError } from '../errors.js';
import { printableExcerpt } from '../data/excerpt.js';
import type { CliCommand, CliIo } from './command.js';

/** Commands are imported lazily so `nextclick evaluate` never loads kafkajs or TensorFlow.js it does not need. */
export const commands: Record<string, () => Promise<{ command: CliCommand }>> = {
  demo: () => import('./commands/demo.js'),
  prepare: () => import('./commands/prepare.js'),
  train: () => import('./commands/train.js'),
  tune: () => import('./commands/tune.js'),
  evaluate: () => import('./commands/evaluate.js'),
  stream: () => import('./commands/stream.js'),
  replay: () => import('./commands/replay.js'),
  setup: () => import('./commands/setup.js'),
};

const summaries: Record<string, string> = {
  demo: 'generate a synthetic log, train the models, replay and print metrics (no files, no Kafka)',
  prepare: 'turn a raw click log into train/test files (sessions, filters, time split)',
  train: 'train a model on a prepared log and save it to a directory',
  tune: 'search a model\'s parameters (or the model kind) on validation within a time budget',
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
      io.stdout.write(`${(command.help ? await command.help() : command.usage).trim()}\n`);
      return 0;
    }
    const { values, positionals } = parseArgs({ args: joinNegativeValues(rest, command.options), options: { ...command.options, json: { type: 'boolean' } }, strict: true, allowPositionals: command.positionals === true });
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

/**
 * `--sessions -5` is read as `--sessions=-5`: a value that looks like a negative number is the option's value,
 * not an unknown flag, so the command can say what it expects instead of the parser's "ambiguous".
 */
export function joinNegativeValues(args: readonly string[], options: CliCommand['options']): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const opt = a.startsWith('--') && !a.includes('=') ? options[a.slice(2)] : undefined;
    if (opt?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Error codes that mean bad input (a path, a file's contents, an option): exit code 2. */
const BAD_INPUT_CODES = new Set(['INVALID_OPTION', 'INVALID_INPUT', 'FILE_NOT_FOUND', 'PARSE_FAILED', 'MODEL_FORMAT', 'UNSAFE_PATH', 'INVALID_EVENT', 'DECODE_FAILED']);
/** Node file-system errors caused by a path the user gave: exit code 2. */
const BAD_PATH_ERRNOS = new Set(['ENOENT', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EACCES', 'EPERM', 'ENOTEMPTY']);
/** Longest error message printed; longer ones (never expected) are cut. */
const MAX_MESSAGE_CHARS = 2000;

/** Exit code of an error: 2 for bad input (usage, paths, file contents, model directories), 1 otherwise. */
export function exitCodeOf(err: unknown): 1 | 2 {
  if (err instanceof NextclickError) return BAD_INPUT_CODES.has(err.code) ? 2 : 1;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return 1;
  return code.startsWith('ERR_PARSE_ARGS') || BAD_PATH_ERRNOS.has(code) ? 2 : 1;
}

function reportError(err: unknown, json: boolean, io: CliIo, usage: string): number {
  const exit = exitCodeOf(err);
  // Messages may quote input; escape what is not printable and cut what is long (a binary file never floods the terminal).
  const message = printableExcerpt((err as Error).message ?? String(err), MAX_MESSAGE_CHARS).replace(/\\n/g, '\n');
  if (json) {
    const body = err instanceof NextclickError ? { ...err.toJSON(), message } : { name: (err as Error).name, message, ...((err as { code?: string }).code ? { code: (err as { code?: string }).code } : {}) };
    io.stdout.write(JSON.stringify({ ok: false, error: body }) + '\n');
  } else {
    const code = err instanceof NextclickError ? ` [${err.code}]` : (err as { code?: string }).code ? ` [${(err as { code?: string }).code}]` : '';
    io.stderr.write(`nextclick: ${message}${code}\n`);
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) io.stderr.write(`\n${usage.trim()}\n`);
    if (exit === 1 && !(err instanceof NextclickError) && process.env['NEXTCLICK_DEBUG']) io.stderr.write(`${(err as Error).stack}\n`);
  }
  return exit;
}
