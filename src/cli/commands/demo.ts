import { NextclickError } from '../../errors.js';
import type { CliCommand } from '../command.js';

// Placeholder until the command lands; owned by the work item that builds it.
export const command: CliCommand = {
  name: 'demo',
  summary: '',
  usage: 'nextclick demo',
  options: {},
  async run() {
    throw new NextclickError('INTERNAL', 'nextclick demo is not built yet');
  },
};
