import type { Command } from 'commander';
import { NotImplementedError } from '../../errors.js';
import { action } from '../context.js';

export function registerHealth(program: Command): void {
  program
    .command('health')
    .description('check that the database is reachable, migrated and its pool healthy (not built yet)')
    .addHelpText('after', '\nExample:\n  $ soulspot health --json')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new NotImplementedError('health');
      }),
    );
}
