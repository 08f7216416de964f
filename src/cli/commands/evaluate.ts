import { NextclickError } from '../../errors.js';
import type { CliCommand } from '../command.js';

// Placeholder until the command lands; owned by the work item that builds it.
export const command: CliCommand = {
  name: 'evaluate',
  summary: '',
  usage: 'nextclick evaluate',
  options: {},
  async run() {
    throw new NextclickError('INTERNAL', 'nextclick evaluate is not built yet');
  },
};
