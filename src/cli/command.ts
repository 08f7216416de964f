import { InvalidOptionError } from '../errors.js';
import type { ParseArgsConfig } from 'node:util';

export type CliOptions = NonNullable<ParseArgsConfig['options']>;

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream;
}

/** One `nextclick <name>` command. The CLI is the composition root: commands may import models and streaming. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  /** Usage lines shown by `nextclick <name> --help` and after an argument error. */
  readonly usage: string;
  /** Full `--help` text when it depends on what is installed (model kinds); defaults to `usage`. */
  help?(): Promise<string>;
  readonly options: CliOptions;
  /** Whether it takes positional arguments (`nextclick setup tensorflow`), passed to run. @defaultValue false */
  readonly positionals?: boolean;
  /** Returns the process exit code. Throw a NextclickError for bad input. */
  run(values: Record<string, string | boolean | string[] | boolean[] | undefined>, io: CliIo, positionals?: readonly string[]): Promise<number>;
}

/** Reads a numeric option, with a typed error naming it and saying what it expects (e.g. `a positive integer`). */
export function numberOption(values: Record<string, unknown>, name: string, fallback: number, check: (n: number) => boolean = Number.isFinite, expected = 'a valid number'): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !check(n)) {
    throw new CliUsageError(`--${name} expects ${expected}, got "${String(raw)}"`);
  }
  return n;
}

export function stringOption(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requiredString(values: Record<string, unknown>, name: string): string {
  const v = stringOption(values, name);
  if (v === undefined || v === '') throw new CliUsageError(`--${name} is required`);
  return v;
}


/** Bad command-line usage (exit code 2). */
export class CliUsageError extends InvalidOptionError {
  constructor(message: string) {
    super('argv', message);
  }
}
