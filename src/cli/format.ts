import { Option } from 'commander';
import { UsageError } from '../errors.js';
import type { CommandContext } from './context.js';
import { oneOf } from './options.js';

export const FORMATS = ['table', 'json', 'openmetrics'] as const;
export type OutputFormat = (typeof FORMATS)[number];

/** `--format table|json|openmetrics` for the commands whose results Prometheus can scrape. */
export function formatOption(): Option {
  return new Option('--format <format>', 'output: table, json (as --json) or openmetrics (Prometheus text exposition)').choices(FORMATS).argParser(oneOf(FORMATS));
}

/** The output asked for: --format, else json with --json, else table; --json beside another --format is refused. */
export function outputFormat(ctx: CommandContext, format: OutputFormat | undefined, command: string): OutputFormat {
  if (ctx.options.json && format && format !== 'json') {
    throw new UsageError(`${command}: --json asks for JSON but --format asks for ${format}; give one of them`);
  }
  return format ?? (ctx.options.json ? 'json' : 'table');
}
