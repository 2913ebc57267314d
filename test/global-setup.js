// The PostgreSQL tests are mandatory: fail the whole run (never skip) when the server is unreachable.
import pg from 'pg';

export default async function globalSetup() {
  const url = process.env.TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    // Named by the driver's own reading of the URL, which never shows its password.
    const where = `${client.user}@${client.host}:${client.port}/${client.database}`;
    throw new Error(`PostgreSQL tests need a server at ${where} (TEST_PG_URL): ${error.message}. Start it (see README) and run again.`, { cause: error });
  } finally {
    await client.end().catch(() => {});
  }
}
