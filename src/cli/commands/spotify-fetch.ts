import type { Command } from 'commander';
import { NotImplementedError } from '../../errors.js';
import { action } from '../context.js';

export function registerSpotifyFetch(program: Command): void {
  program
    .command('spotify-fetch [ids...]')
    .description('fill in track metadata from the Spotify Web API in batches of 50 (not built yet)')
    .addHelpText('after', '\nExample:\n  $ soulspot spotify-fetch --missing')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new NotImplementedError('spotify-fetch');
      }),
    );
}
