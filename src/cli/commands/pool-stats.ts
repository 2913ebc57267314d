import type { Command } from 'commander';
import { NotImplementedError } from '../../errors.js';
import { action } from '../context.js';

export function registerPoolStats(program: Command): void {
  program
    .command('pool-stats')
    .description('print connection-pool settings and statistics (not built yet)')
    .addHelpText('after', '\nExample:\n  $ soulspot pool-stats --probe --concurrency 20')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new NotImplementedError('pool-stats');
      }),
    );
}
