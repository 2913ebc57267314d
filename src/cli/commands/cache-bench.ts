import type { Command } from 'commander';
import { NotImplementedError } from '../../errors.js';
import { action } from '../context.js';

export function registerCacheBench(program: Command): void {
  program
    .command('cache-bench')
    .description('benchmark the LRU cache against lru-cache and the database (not built yet)')
    .addHelpText('after', '\nExample:\n  $ soulspot cache-bench --json')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new NotImplementedError('cache-bench');
      }),
    );
}
