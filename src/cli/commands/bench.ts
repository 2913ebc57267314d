import type { Command } from 'commander';
import { NotImplementedError } from '../../errors.js';
import { action } from '../context.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description("measure the original guide's expected-improvements table on this machine (not built yet)")
    .addHelpText('after', '\nExample:\n  $ soulspot bench --scale small')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new NotImplementedError('bench');
      }),
    );
}
