import type { Command } from 'commander';
import { NotImplementedError } from '../../errors.js';
import { action } from '../context.js';

export function registerImportTracks(program: Command): void {
  program
    .command('import-tracks <file>')
    .description('bulk-import tracks from CSV, TSV, JSON or NDJSON (- for stdin) (not built yet)')
    .addHelpText('after', '\nExample:\n  $ soulspot import-tracks examples/liked-songs.csv')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new NotImplementedError('import-tracks');
      }),
    );
}
