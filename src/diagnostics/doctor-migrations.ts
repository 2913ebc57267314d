import type { Config } from '../config.js';
import { finding, ok, type DoctorCheck } from './doctor-check.js';

const ID = 'migrations';
const CHECK = 'migrations applied, none failed or edited';

/**
 * Every migration of this version applied, none failed, none edited since (checksums). Failed
 * migrations and a database with none applied are problems; pending, edited or unknown ones are
 * warnings (the schema may lack an index or column, but what is there works).
 */
export async function checkMigrations(config: Config): Promise<DoctorCheck> {
  const { getMigrationStatus } = await import('../migrate/migrator.js');
  const status = await getMigrationStatus(config);
  const names = (state: string) => status.rows.filter((r) => r.state === state).map((r) => r.name);
  const applied = names('applied');
  if (status.upToDate) return ok(ID, CHECK, `${applied.length} applied, none pending, checksums match`);
  const [pending, failed, edited, unknown] = [names('pending'), names('failed'), names('edited'), names('unknown')];
  const parts = [
    pending.length ? `pending: ${pending.join(', ')}` : '',
    failed.length ? `failed: ${failed.join(', ')}` : '',
    edited.length ? `edited after applying (checksum differs): ${edited.join(', ')}` : '',
    unknown.length ? `applied but unknown to this version: ${unknown.join(', ')}` : '',
  ].filter(Boolean);
  const none = status.rows.every((r) => r.state === 'pending');
  const found = `${none ? 'not migrated; ' : `${applied.length} applied; `}${parts.join('; ')}`;
  if (failed.length) {
    return finding(ID, CHECK, 'problem', found, `fix the database, then soulspot migrate resolve --rolled-back ${failed[0]} and soulspot migrate`);
  }
  if (none) return finding(ID, CHECK, 'problem', found, 'soulspot migrate');
  if (pending.length) return finding(ID, CHECK, 'warning', found, 'soulspot migrate');
  if (edited.length) return finding(ID, CHECK, 'warning', found, 'restore the migration file as it was applied (git checkout prisma/), or soulspot migrate status to compare');
  return finding(ID, CHECK, 'warning', found, 'run the soulspot version that wrote these migrations, or upgrade this one');
}
