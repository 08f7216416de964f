import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/command.js';

/** A CliIo whose stdout/stderr are collected as text, for calling the CLI's `main` in tests. */
export function captureIo(): { io: CliIo; text: () => { stdout: string; stderr: string } } {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += String(d)));
  err.on('data', (d) => (stderr += String(d)));
  return { io: { stdout: out, stderr: err as unknown as NodeJS.WriteStream }, text: () => ({ stdout, stderr }) };
}
