/**
 * DATABASE_URL as managed providers hand it out: libpq parameters with libpq's meanings, TLS
 * tested for real against a throwaway cluster with a certificate made for it, and a password
 * that never shows in an error.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { startPostgres } from '../../harness/postgres.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parseDatabaseUrl } from '../../src/storage/connection.js';
import { openStore } from '../../src/storage/open.js';

const CREDENTIALS = {
  POSTIZ_OAUTH_CLIENT_ID: 'pca_0123456789',
  POSTIZ_OAUTH_CLIENT_SECRET: 'pcs_0123456789',
};

const configWith = (env: Record<string, string>) => loadConfig({ ...CREDENTIALS, ...env });

describe('DATABASE_URL parameters', () => {
  test('the URLs managed providers hand out are accepted', () => {
    for (const url of [
      'postgresql://user:pw@ep-cool-name-123456.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require',
      'postgres://postgres.abcd:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?pgbouncer=true',
      'postgres://app:pw@top2.nearest.of.app-db.internal:5432/app?sslmode=disable',
      'postgres://app:pw@db.abc.eu-west-1.rds.amazonaws.com:5432/app?sslmode=verify-full&sslrootcert=/etc/ssl/rds.pem',
      'postgres://app@localhost/app?application_name=cli-auth&options=-c%20statement_timeout%3D5000&connect_timeout=3',
      'postgres://app@/app?host=/var/run/postgresql',
    ]) {
      assert.equal(configWith({ DATABASE_URL: url }).databaseUrl, url);
    }
  });

  test('libpq meanings: the default is prefer; require with a root certificate is verify-ca', () => {
    assert.equal(parseDatabaseUrl('postgres://h/db', 'X').sslmode, 'prefer');
    const target = parseDatabaseUrl(
      'postgres://u:p%40ss@h:6543/db?sslmode=require&application_name=a&options=-c%20x%3D1',
      'X',
    );
    assert.equal(target.password, 'p@ss');
    assert.equal(target.port, 6543);
    assert.equal(target.applicationName, 'a');
    assert.equal(target.options, '-c x=1');
    assert.equal(parseDatabaseUrl('postgres://u@/db?host=/tmp/sock', 'X').host, '/tmp/sock');
  });

  const refused: [string, RegExp][] = [
    [
      'postgres://u:hunter2@h/db?sslmode=bogus',
      /sslmode=bogus; use one of disable, allow, prefer, require, verify-ca, verify-full/,
    ],
    ['postgres://u:hunter2@h/db?sslmod=require', /unknown parameter "sslmod"/],
    ['postgres://u:hunter2@h/db?sslmode=require&sslmode=disable', /"sslmode" twice/],
    ['postgres://u:hunter2@h:port/db', /must be a URL/],
    ['postgres://u:hunter2@h/db#x', /fragment/],
    ['mysql://u:hunter2@h/db', /must start with postgres/],
    ['postgres://u:hunter2@h/db?connect_timeout=soon', /connect_timeout/],
    ['postgres://u:hunter2@[::1/db', /must be a URL/],
  ];
  for (const [url, why] of refused) {
    test(`refused in one line that names DATABASE_URL and never shows the password: ${url.split('@')[1]}`, () => {
      let err: unknown;
      try {
        configWith({ DATABASE_URL: url });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /^DATABASE_URL /);
      assert.match(err.message, why);
      assert.ok(!err.message.includes('hunter2'), err.message);
      assert.ok(!err.message.includes('\n'));
    });
  }
});

const cluster = await startPostgres({ tls: {} });
const sslOnly = cluster ? await startPostgres({ tls: { only: true } }) : null;
const noTls = cluster ? await startPostgres() : null;
const skip = cluster ? false : 'no PostgreSQL available';
after(async () => {
  for (const c of [cluster, sslOnly, noTls]) await c?.stop();
});

/** Whether the store's own backends are encrypted, from pg_stat_ssl joined on application_name. */
async function openProbe(url: string, env: Record<string, string>): Promise<boolean> {
  const name = `tls-probe-${Math.random().toString(36).slice(2)}`;
  const withName = `${url}${url.includes('?') ? '&' : '?'}application_name=${name}`;
  const store = await openStore(
    configWith({ DATABASE_URL: withName, DATABASE_STARTUP_TIMEOUT_SECONDS: '0', ...env }),
  );
  try {
    const admin = new pg.Client({ connectionString: cluster!.url });
    await admin.connect();
    try {
      await store.ping();
      const rows = await admin.query(
        `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1`,
        [name],
      );
      assert.ok(rows.rows.length > 0, 'the store holds a connection');
      return rows.rows.every((r) => r.ssl === true);
    } finally {
      await admin.end();
    }
  } finally {
    await store.close();
  }
}

/** The one-line error opening a store on `url` fails with. */
async function openError(url: string, env: Record<string, string> = {}): Promise<string> {
  try {
    const store = await openStore(
      configWith({ DATABASE_URL: url, DATABASE_STARTUP_TIMEOUT_SECONDS: '0', ...env }),
    );
    await store.close();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${url} connected`);
}

describe('TLS against a real server', { skip }, () => {
  const at = (host: string, query: string) =>
    `postgres://postgres:hunter2@${host}:${cluster!.port}/postgres?${query}`;

  test('sslmode=require encrypts without checking the certificate', async () => {
    assert.equal(await openProbe(at('127.0.0.1', 'sslmode=require'), {}), true);
  });

  test('no sslmode means prefer: TLS when the server has it, plain when it has not', async () => {
    assert.equal(await openProbe(`postgres://postgres@127.0.0.1:${cluster!.port}/postgres`, {}), true);
    const plain = `postgres://postgres@127.0.0.1:${noTls!.port}/postgres`;
    const store = await openStore(configWith({ DATABASE_URL: plain }));
    await store.ping();
    await store.close();
  });

  test('sslmode=disable never encrypts, and allow encrypts only for a server that demands it', async () => {
    assert.equal(await openProbe(at('127.0.0.1', 'sslmode=disable'), {}), false);
    assert.equal(await openProbe(at('127.0.0.1', 'sslmode=allow'), {}), false);
    const strict = `postgres://postgres@127.0.0.1:${sslOnly!.port}/postgres?sslmode=allow`;
    const store = await openStore(configWith({ DATABASE_URL: strict }));
    await store.ping();
    await store.close();
    assert.match(await openError(strict.replace('allow', 'disable')), /no encryption/);
  });

  test('verify-full with the right root certificate connects (sslrootcert, or DATABASE_CA_FILE)', async () => {
    const { caFile } = cluster!.tls!;
    assert.equal(await openProbe(at('localhost', `sslmode=verify-full&sslrootcert=${caFile}`), {}), true);
    assert.equal(await openProbe(at('localhost', 'sslmode=verify-full'), { DATABASE_CA_FILE: caFile }), true);
  });

  test('verify-full with the wrong root certificate fails with one clear line and no password', async () => {
    const message = await openError(
      at('localhost', `sslmode=verify-full&sslrootcert=${cluster!.tls!.otherCaFile}`),
    );
    assert.match(
      message,
      /^cannot connect to the database at DATABASE_URL \(postgres:\/\/postgres:\*\*\*@localhost:\d+\/postgres\?sslmode=verify-full&sslrootcert=\S+\): .*certificate/,
    );
    assert.ok(!message.includes('hunter2'));
    assert.ok(!message.includes('\n'));
  });

  test('verify-full checks the host name; verify-ca does not', async () => {
    const { caFile } = cluster!.tls!;
    // The certificate names localhost only.
    assert.match(
      await openError(at('127.0.0.1', `sslmode=verify-full&sslrootcert=${caFile}`)),
      /altnames|does not match/i,
    );
    assert.equal(await openProbe(at('127.0.0.1', `sslmode=verify-ca&sslrootcert=${caFile}`), {}), true);
    assert.match(
      await openError(at('127.0.0.1', `sslmode=verify-ca&sslrootcert=${cluster!.tls!.otherCaFile}`)),
      /certificate/,
    );
  });

  test('a root certificate that cannot be read is named in the error', async () => {
    assert.match(
      await openError(at('localhost', 'sslmode=verify-full&sslrootcert=/nonexistent/root.crt')),
      /cannot read the root certificate \/nonexistent\/root\.crt: ENOENT/,
    );
  });
});

describe('a database that is not up yet at start-up', { skip }, () => {
  test('the server waits for it (DATABASE_STARTUP_TIMEOUT_SECONDS), then opens', async () => {
    const url = `postgres://postgres:hunter2@127.0.0.1:${noTls!.port}/postgres`;
    await noTls!.kill();
    const restarted = new Promise((resolve) => setTimeout(resolve, 2500)).then(() => noTls!.restart());
    const begun = Date.now();
    const store = await openStore(configWith({ DATABASE_URL: url, DATABASE_STARTUP_TIMEOUT_SECONDS: '30' }));
    await restarted;
    assert.ok(Date.now() - begun >= 2000, 'it waited');
    await store.ping();
    await store.close();
  });

  test('past the wait, one line names DATABASE_URL and the reason, without the password', async () => {
    const url = `postgres://postgres:hunter2@127.0.0.1:${noTls!.port}/postgres`;
    await noTls!.kill();
    try {
      const message = await openError(url, { DATABASE_STARTUP_TIMEOUT_SECONDS: '1' });
      assert.match(
        message,
        /^cannot connect to the database at DATABASE_URL \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\): .*ECONNREFUSED.* \(gave up after waiting for it\)$/,
      );
      assert.ok(!message.includes('hunter2'));
    } finally {
      await noTls!.restart();
    }
  });
});
