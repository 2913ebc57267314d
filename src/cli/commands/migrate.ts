import { Option, type Command } from 'commander';
import { ExitCode, UsageError } from '../../errors.js';
import { maskUrl } from '../../database-url.js';
import { action } from '../context.js';
import { wholeNumber } from '../options.js';

export function registerMigrate(program: Command): void {
  // Applying is the default subcommand `up`, not an action of `migrate` itself: options of
  // `migrate` would be recognised anywhere on the line and swallow the subcommands' --to and
  // --dry-run (`migrate down --dry-run` rolled back for real).
  const migrate = program
    .command('migrate')
    .description('create or upgrade the database (migrate up, the default); status, down, resolve')
    .addHelpText(
      'after',
      `
Examples:
  $ soulspot migrate                      apply everything pending to ./soulspot.db
  $ soulspot migrate --dry-run            show the SQL, change nothing
  $ DATABASE_URL=postgresql://postgres@127.0.0.1/soulspot soulspot migrate --to 20261128174650_init
  $ soulspot migrate up --help            the options of migrate (up)`,
    );

  migrate
    .command('up', { isDefault: true })
    .description('apply the pending migrations (the default: soulspot migrate [options] is soulspot migrate up [options])')
    .option('--to <migration>', 'apply up to and including this migration only')
    .option('--dry-run', 'print the SQL that would run; change nothing')
    .option('--lock-timeout <seconds>', 'how long to wait for another migrator', wholeNumber({ min: 1 }), 300)
    .addHelpText('after', '\nExamples:\n  $ soulspot migrate --dry-run\n  $ soulspot migrate up --to 20261128174650_init --lock-timeout 60')
    .action(
      action(async (ctx, opts: { to?: string; dryRun?: boolean; lockTimeout: number }) => {
        const { applyMigrations } = await import('../../migrate/migrator.js');
        const report = await applyMigrations(ctx.config, { to: opts.to, dryRun: opts.dryRun, lockTimeoutMs: opts.lockTimeout * 1000, logger: ctx.logger });
        const where = maskUrl(ctx.config.databaseUrl);
        if (ctx.options.json) {
          const { writeJson } = await import('../render.js');
          writeJson(ctx.stdout, {
            database: where,
            dryRun: report.dryRun,
            applied: report.dryRun ? [] : report.applied.map((m) => m.name),
            pending: report.dryRun ? report.applied.map((m) => ({ name: m.name, sql: m.sql })) : [],
            edited: report.edited,
          });
        } else if (report.dryRun) {
          if (report.applied.length === 0) ctx.stdout.write(`Nothing to apply: ${where} is up to date.\n`);
          for (const m of report.applied) ctx.stdout.write(`-- Migration ${m.name} (dry run: not applied)\n${m.sql.trimEnd()}\n\n`);
        } else if (report.applied.length === 0) {
          ctx.stdout.write(`Nothing to apply: ${where} is up to date.\n`);
        } else {
          for (const m of report.applied) ctx.stdout.write(`Applied ${m.name}\n`);
          ctx.stdout.write(`${report.applied.length} migration(s) applied to ${where}.\n`);
        }
      }),
    );

  migrate
    .command('status')
    .description('list the migrations: applied, pending, failed, edited; exit 6 unless all are applied')
    .addHelpText('after', '\nExample:\n  $ soulspot migrate status --json')
    .action(
      action(async (ctx) => {
        const { getMigrationStatus } = await import('../../migrate/migrator.js');
        const status = await getMigrationStatus(ctx.config);
        if (ctx.options.json) {
          const { writeJson } = await import('../render.js');
          writeJson(ctx.stdout, {
            database: maskUrl(ctx.config.databaseUrl),
            upToDate: status.upToDate,
            migrations: status.rows.map((r) => ({ name: r.name, state: r.state, appliedAt: r.appliedAt?.toISOString() ?? null, ...(r.logs ? { error: r.logs } : {}) })),
          });
        } else {
          const { renderTable, outputWidth } = await import('../render.js');
          ctx.stdout.write(
            renderTable(
              ['migration', 'applied at', 'state'],
              status.rows.map((r) => [r.name, r.appliedAt?.toISOString() ?? '-', r.state]),
              { title: `Migrations of ${maskUrl(ctx.config.databaseUrl)}`, width: outputWidth(ctx.stdout) },
            ),
          );
        }
        return status.upToDate ? ExitCode.OK : ExitCode.ATTENTION;
      }),
    );

  migrate
    .command('down')
    .description('roll back applied migrations with their reverse scripts (default: the newest one)')
    .addOption(new Option('--steps <n>', 'how many migrations to roll back').argParser(wholeNumber({ min: 1 })).conflicts(['to', 'all']))
    .addOption(new Option('--to <migration>', 'roll back everything after this migration').conflicts('all'))
    .option('--all', 'roll back every migration (empties the database)')
    .option('--dry-run', 'print the reverse SQL that would run; change nothing')
    .addHelpText('after', '\nExamples:\n  $ soulspot migrate down --steps 1\n  $ soulspot migrate down --all --dry-run')
    .action(
      action(async (ctx, opts: { steps?: number; to?: string; all?: boolean; dryRun?: boolean }) => {
        const { rollbackMigrations } = await import('../../migrate/migrator.js');
        const { rolledBack, dryRun } = await rollbackMigrations(ctx.config, { ...opts, logger: ctx.logger });
        if (ctx.options.json) {
          const { writeJson } = await import('../render.js');
          writeJson(ctx.stdout, { dryRun, rolledBack: rolledBack.map((m) => m.name), ...(dryRun ? { sql: rolledBack.map((m) => m.downSql) } : {}) });
        } else if (rolledBack.length === 0) {
          ctx.stdout.write('Nothing to roll back.\n');
        } else {
          for (const m of rolledBack) {
            ctx.stdout.write(dryRun ? `-- Reverse of ${m.name} (dry run: not run)\n${m.downSql!.trimEnd()}\n\n` : `Rolled back ${m.name}\n`);
          }
        }
      }),
    );

  migrate
    .command('resolve')
    .description('mark a failed migration as applied (finished by hand) or rolled back')
    .addOption(new Option('--applied <migration>', 'mark it applied').conflicts('rolledBack'))
    .addOption(new Option('--rolled-back <migration>', 'mark it rolled back, so migrate tries it again'))
    .addHelpText('after', '\nExample:\n  $ soulspot migrate resolve --rolled-back 20261128174650_init')
    .action(
      action(async (ctx, opts: { applied?: string; rolledBack?: string }) => {
        const name = opts.applied ?? opts.rolledBack;
        if (!name) throw new UsageError('migrate resolve: expected --applied <migration> or --rolled-back <migration>, got neither');
        const { resolveMigration } = await import('../../migrate/migrator.js');
        const as = opts.applied ? 'applied' : 'rolled-back';
        const resolved = await resolveMigration(ctx.config, name, as);
        if (ctx.options.json) {
          const { writeJson } = await import('../render.js');
          writeJson(ctx.stdout, { migration: resolved, markedAs: as });
        } else ctx.stdout.write(`Marked ${resolved} as ${as}.\n`);
      }),
    );
}
