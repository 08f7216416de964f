import { NextclickError } from '../../errors.js';
import type { CliCommand } from '../command.js';

// Placeholder until the command lands; owned by the work item that builds it.
export const command: CliCommand = {
  name: 'stream',
  summary: '',
  usage: 'nextclick stream',
  options: {},
  async run() {
    throw new NextclickError('INTERNAL', 'nextclick stream is not built yet');
  },
};
