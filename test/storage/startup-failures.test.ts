/**
 * Connecting at start-up: a refusal that waiting cannot change fails at once, in one line that
 * names the setting, the cause and what to change, instead of being waited on for
 * DATABASE_STARTUP_TIMEOUT_SECONDS as if the database were still starting. Against a real
 * PostgreSQL and a real PgBouncer; and a URL whose password was not percent-encoded.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type PgBouncer, pgbouncerMissing, startPgBouncer } from '../../harness/pgbouncer.js';
import { usePostgres } from '../../harness/postgres.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { openStore } from '../../src/storage/open.js';

const CREDENTIALS = {
  POSTIZ_OAUTH_CLIENT_ID: 'pca_0123456789',
  POSTIZ_OAUTH_CLIENT_SECRET: 'pcs_0123456789',
};

const bouncers: PgBouncer[] = [];
// Registered before usePostgres's own hook: the pooler stops before its database.
after(async () => {
  for (const b of bouncers) await b.stop();
});
const cluster = await usePostgres();
const skip = cluster ? false : 'no PostgreSQL available';
const bouncerMissing = !cluster ? 'no PostgreSQL available' : pgbouncerMissing();
const bouncerSkip = bouncerMissing && process.env.REQUIRE_POSTGRES !== '1' ? bouncerMissing : false;

/** The error opening a store on `url` fails with, and how long it took, with 30 s allowed for the database to appear. */
async function failure(url: string): Promise<{ message: string; ms: number }> {
  const started = performance.now();
  try {
    const store = await openStore(
      loadConfig({ ...CREDENTIALS, DATABASE_URL: url, DATABASE_STARTUP_TIMEOUT_SECONDS: '30' }),
    );
    await store.close();
  } catch (err) {
    return { message: (err as Error).message, ms: performance.now() - started };
  }
  throw new Error(`${url} connected`);
}

describe('refusals that waiting cannot change fail at once', { skip }, () => {
  const at = (path: string) => {
    const url = new URL(cluster!.url);
    url.pathname = path;
    return url;
  };

  test('a database that does not exist (3D000)', async () => {
    const { message, ms } = await failure(at('/no_such_database').href);
    assert.ok(ms < 5000, `${ms} ms`);
    assert.match(
      message,
      /^cannot connect to the database at DATABASE_URL \(postgres:\/\/.*\/no_such_database\): database "no_such_database" does not exist \(create that database, or fix the database name in DATABASE_URL\)$/,
    );
  });

  test('a role that does not exist (28000)', async () => {
    const url = at('/postgres');
    url.username = 'nobody_here';
    url.password = 'hunter2';
    const { message, ms } = await failure(url.href);
    assert.ok(ms < 5000, `${ms} ms`);
    assert.match(message, /role "nobody_here" does not exist \(check the user in DATABASE_URL/);
    assert.ok(!message.includes('hunter2'));
  });
});

test('PgBouncer refusing a startup parameter (08P01) fails at once, naming DATABASE_URL and the parameter', {
  skip: bouncerSkip,
  timeout: 60_000,
}, async () => {
  // Seen before this check: the server waited the whole 30 s for it, as for a database still starting.
  const bouncer = await startPgBouncer(cluster!.port, 'transaction', {
    ignoreStartupParameters: ['extra_float_digits'],
  });
  bouncers.push(bouncer);
  const url = `${bouncer.url('postgres')}?options=-c%20statement_timeout%3D5000`;
  const { message, ms } = await failure(url);
  assert.ok(ms < 5000, `${ms} ms`);
  assert.match(
    message,
    /^cannot connect to the database at DATABASE_URL \(.*\): unsupported startup parameter: options \(a connection pooler \(PgBouncer\) refuses this startup parameter: remove it from DATABASE_URL, or list it in the pooler's ignore_startup_parameters\)$/,
  );
});

describe('a password that was not percent-encoded', () => {
  for (const [url, held] of [
    ['postgres://app:pa#ss@db.internal:5432/auth', '#'],
    ['postgres://app:pa?ss@db.internal:5432/auth', '?'],
    ['postgres://app:12/34@db.internal:5432/auth', '/'],
    ['postgres://app:pa/ss@db.internal:5432/auth', '/'],
  ] as const) {
    test(`${url.replace(/:[^:@]*@/, ':…@')}: the hint names ${held} and never the password`, () => {
      let err: unknown;
      try {
        loadConfig({ ...CREDENTIALS, DATABASE_URL: url });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /^DATABASE_URL /);
      assert.ok(
        err.message.includes(
          `the user name or password holds ${held}: percent-encode it, # as %23, / as %2F`,
        ),
        err.message,
      );
      for (const secret of ['pa#ss', 'pa?ss', '12/34', 'pa/ss']) assert.ok(!err.message.includes(secret));
    });
  }

  test('an encoded password is read as meant', () => {
    const config = loadConfig({ ...CREDENTIALS, DATABASE_URL: 'postgres://app:pa%23s%2Fs@db.internal/auth' });
    assert.equal(config.databaseUrl, 'postgres://app:pa%23s%2Fs@db.internal/auth');
  });
});
