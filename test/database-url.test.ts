import pgConnectionString from 'pg-connection-string';
import { loadConfig } from '../src/config.js';
import { ConfigError, ExitCode } from '../src/errors.js';
import { getPgUrlProblem, maskSecretsInText, maskUrl } from '../src/database-url.js';

/** The password node-postgres would send for `url` (the driver's own parser). */
function driverPassword(url: string): string {
  return pgConnectionString.parse(url).password ?? '';
}

describe('maskUrl hides the password as the driver reads it', () => {
  test.each([
    // [url, masked]
    ['postgresql://user:Pa55:w@rd%21@host/db', 'postgresql://user:****@host/db'],
    ['postgresql://user:p@ss@w@rd@host:5432/db?schema=x', 'postgresql://user:****@host:5432/db?schema=x'],
    ['postgresql://us%40er:p%3Aw%2Fd@host/db', 'postgresql://us%40er:****@host/db'],
    ['postgresql://user:s3cret@[::1]:5432/db', 'postgresql://user:****@[::1]:5432/db'],
    ['postgresql://user:s3cret@[2001:db8::1]/db', 'postgresql://user:****@[2001:db8::1]/db'],
    ['postgresql://:s3cret@host/db', 'postgresql://:****@host/db'],
    ['postgres://user:s3cret@host', 'postgres://user:****@host'],
    ['http://user:pw@127.0.0.1:8080/api', 'http://user:****@127.0.0.1:8080/api'],
    ['postgresql://user@host/db?password=s3cret&sslmode=disable', 'postgresql://user@host/db?password=****&sslmode=disable'],
    ['postgresql://host/db?sslpassword=s3cret&pass%77ord=s3cret', 'postgresql://host/db?sslpassword=****&pass%77ord=****'],
    ['postgresql://user:s3cret@host/db?application_name=a@b', 'postgresql://user:****@host/db?application_name=a@b'],
  ])('%s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
    const password = driverPassword(url) || new URLSearchParams(url.split('?')[1] ?? '').get('password');
    if (password) {
      expect(maskUrl(url)).not.toContain(password);
      expect(maskUrl(url)).not.toContain(encodeURIComponent(password));
    }
  });

  test.each([
    'postgresql://user@host/db',
    'postgresql://user:@host/db',
    'postgresql://[::1]:5432/db',
    'postgresql://host:5432/db?schema=public',
    'file:./soulspot.db',
    'file:///tmp/a:b@c.db',
  ])('%s has no password and is left as written', (url) => {
    expect(maskUrl(url)).toBe(url);
  });

  test('a URL the driver refuses hides everything up to its last @ (its password may hold a / or a #)', () => {
    expect(maskUrl('postgresql://user:pa/ss@host:5432/db')).toBe('postgresql://user:****@host:5432/db');
    expect(maskUrl('postgresql://user:pa#ss@host/db')).toBe('postgresql://user:****@host/db');
    expect(maskUrl('postgresql://user:s3cret@host:99999/db')).toBe('postgresql://user:****@host:99999/db');
  });

  test('every URL inside a text is masked, and nothing else changes', () => {
    const text = 'cannot reach "postgresql://user:Pa55:w@rd%21@host/db" nor http://u:pw@127.0.0.1:1/api/token: refused (see https://example.org/docs)';
    expect(maskSecretsInText(text)).toBe('cannot reach "postgresql://user:****@host/db" nor http://u:****@127.0.0.1:1/api/token: refused (see https://example.org/docs)');
  });
});

describe('the database URL is validated as the driver reads it', () => {
  test.each([
    ['postgresql://user:s3cret@host:99999/db', /port is not a whole number from 1 to 65535/],
    ['postgresql://user:s3cret@host:abc/db', /port is not a whole number from 1 to 65535/],
    ['postgresql://host:0/db', /port is not a whole number from 1 to 65535/],
    ['postgresql://[zz/x', /node-postgres cannot read it as a URL/],
    // a / in the password: the parser takes "pa" for a port; the message must not show it
    ['postgresql://user:pa/ss@host/db', /^the port is not a whole number from 1 to 65535$/],
  ])('%s is refused', (url, problem) => {
    expect(getPgUrlProblem(url)).toMatch(problem);
  });

  test.each(['postgresql://user:Pa55:w@rd%21@host/db', 'postgresql://u:p@[::1]:5432/db?schema=s&pgbouncer=true', 'postgres://host/db', 'postgresql:///db?host=/var/run/postgresql'])(
    '%s is accepted',
    (url) => {
      expect(getPgUrlProblem(url)).toBeUndefined();
    },
  );

  test.each([
    [{ DATABASE_URL: 'postgresql://user:s3cret@host:99999/db' }, undefined, 'DATABASE_URL'],
    [{}, 'postgresql://user:s3cret@host:abc/db', '--database-url'],
    [{ DATABASE_URL: 'postgresql://[zz/x' }, undefined, 'DATABASE_URL'],
  ])('loadConfig(%j, %s) throws a ConfigError naming %s, without the password', (env, flag, source) => {
    let thrown: unknown;
    try {
      loadConfig({ databaseUrl: flag }, env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).exitCode).toBe(ExitCode.CONFIG);
    expect((thrown as Error).message).toMatch(new RegExp(`^${source}: expected postgresql://`));
    expect((thrown as Error).message).not.toContain('s3cret');
  });
});
