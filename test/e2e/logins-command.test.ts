/**
 * `postiz-cli-auth logins`, the binary as an operator runs it, against a PostgreSQL database
 * holding recorded logins (each option, the table and JSON lines) and against an embedded
 * database on disk (read while no server holds it; refused, clearly, while one does).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { insertFlow, postgresStore, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../../harness/build.js';
import { usePostgres } from '../../harness/postgres.js';
import { cleanEnv, freePort, spawnNode, TSX, tempDir, waitForHealth } from '../../harness/processes.js';
import { hashSecret, newDeviceCode, newToken, newUserCode } from '../../src/device-flow/codes.js';
import { Organizations } from '../../src/device-flow/organizations.js';
import { pgliteDb } from '../../src/storage/pglite.js';
import { SqlStore } from '../../src/storage/sql-store.js';
import type { EndStatus, Store } from '../../src/storage/store.js';

const CLI = join(import.meta.dirname, '../../src/cli.ts');
const pg = await usePostgres();
const organizations = new Organizations(TEST_CLIENT_SECRET);
const CLI_AGENT = 'postiz/2.1.0 (linux; x64) node/22.23.0';
const MINUTE = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function logins(t: TestContext, args: string[], env: Record<string, string>): Promise<Run> {
  const cwd = await tempDir(t, 'logins-cwd-');
  const child = spawnNode(t, ['--import', TSX, CLI, 'logins', ...args], {
    env: cleanEnv({ POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET, ...env }),
    cwd,
  });
  const { code } = await child.waitForExit(60_000);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

const shown = (run: Run) => `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;

/** A flow started `ago` ms before now from `ip` with `agent`, ended as `status` (org `org`, if any) a minute later. */
async function ended(
  store: Store,
  ago: number,
  status: EndStatus,
  options: { org?: string; ip?: string; agent?: string | null; refusal?: string } = {},
): Promise<string> {
  const createdAt = new Date(Date.now() - ago);
  const flowId = newToken(12);
  await insertFlow(store, {
    flowId,
    deviceCodeHash: hashSecret(newDeviceCode()),
    userCodeHash: hashSecret(newUserCode()),
    publicKey: Buffer.alloc(32, 1),
    clientIp: options.ip ?? '203.0.113.7',
    userAgent: options.agent === undefined ? CLI_AGENT : options.agent,
    intervalSeconds: 5,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 15 * MINUTE),
    holder: null,
  });
  const at = new Date(createdAt.getTime() + MINUTE);
  await store.confirm(flowId, hashSecret(`s${flowId}`), hashSecret('b'), at, {
    browserNetwork: 'same',
    codeSource: 'link',
  });
  const ok = await store.deny(
    flowId,
    status,
    { now: at, instance: 'host-a:1234', keepUntil: new Date(Date.now() + 86_400_000), notify: false },
    options.org ? organizations.store(options.org) : undefined,
    options.refusal,
  );
  assert.ok(ok);
  return flowId;
}

/** The rows of a printed table (header first), as cells split on two spaces or more. */
const table = (stdout: string) =>
  stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/));

test('logins on PostgreSQL: the table, and each option', {
  skip: pg ? false : 'no PostgreSQL available',
  timeout: 120_000,
}, async (t) => {
  const url = await pg!.createDatabase();
  const store = await postgresStore(url);
  t.after(() => store.close());
  // Oldest first: 5 h, 3 h, 40 min and 10 min ago.
  await ended(store, 300 * MINUTE, 'cancelled', { agent: null });
  await ended(store, 180 * MINUTE, 'denied', { org: 'org_acme' });
  await ended(store, 40 * MINUTE, 'refused', {
    org: 'org_unpaid',
    ip: '198.51.100.20',
    refusal: 'no_subscription',
  });
  const newest = await ended(store, 10 * MINUTE, 'denied', { org: 'org_acme', agent: 'curl/8.5.0' });
  const env = { DATABASE_URL: url };

  const all = await logins(t, [], env);
  assert.equal(all.code, 0, shown(all));
  const rows = table(all.stdout);
  assert.deepEqual(rows[0], [
    'WHEN (UTC)',
    'OUTCOME',
    'REASON',
    'ORGANISATION',
    'ADDRESS',
    'DEVICE',
    'NETWORK',
    'CODE',
    'INSTANCE',
  ]);
  assert.deepEqual(
    rows.slice(1).map((r) => [r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]]),
    [
      ['denied', '—', 'org_acme', '203.0.113.7', 'curl 8.5.0', 'same', 'link', 'host-a:1234'],
      [
        'refused',
        'no_subscription',
        'org_unpaid',
        '198.51.100.20',
        'postiz CLI 2.1.0 on Linux',
        'same',
        'link',
        'host-a:1234',
      ],
      ['denied', '—', 'org_acme', '203.0.113.7', 'postiz CLI 2.1.0 on Linux', 'same', 'link', 'host-a:1234'],
      ['cancelled', '—', '—', '203.0.113.7', '—', 'same', 'link', 'host-a:1234'],
    ],
    all.stdout,
  );
  for (const row of rows.slice(1)) assert.match(row[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  const outcomes = async (args: string[]) => {
    const run = await logins(t, args, env);
    assert.equal(run.code, 0, shown(run));
    return table(run.stdout)
      .slice(1)
      .map((r) => r[1]);
  };
  assert.deepEqual(await outcomes(['--organization', 'org_acme']), ['denied', 'denied']);
  assert.deepEqual(await outcomes(['--organization=org_unpaid']), ['refused']);
  assert.deepEqual(await outcomes(['--since', '1h']), ['denied', 'refused']);
  assert.deepEqual(await outcomes(['--since', '200m']), ['denied', 'refused', 'denied']);
  const isoSince = new Date(Date.now() - 240 * MINUTE).toISOString();
  assert.deepEqual(await outcomes(['--since', isoSince]), ['denied', 'refused', 'denied']);
  assert.deepEqual(await outcomes(['--outcome', 'denied', '--limit', '1']), ['denied']);
  assert.deepEqual(await outcomes(['--outcome', 'expired']), []);

  const json = await logins(t, ['--json', '--organization', 'org_acme', '--limit', '1'], env);
  assert.equal(json.code, 0, shown(json));
  const lines = json.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]!);
  assert.equal(line.flow_id, newest);
  assert.deepEqual(line.organization, { id: 'org_acme' });
  assert.deepEqual(line.device, { address: '203.0.113.7', user_agent: 'curl/8.5.0' });
  assert.equal(line.outcome, 'denied');
  assert.match(line.event_id, /^evt_[0-9a-f]{32}$/);

  const none = await logins(t, ['--outcome', 'failed'], env);
  assert.equal(none.code, 0, shown(none));
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /No logins recorded match/);

  // Another client secret cannot name the organisations, nor find them.
  const other = await logins(t, ['--organization', 'org_acme'], {
    ...env,
    POSTIZ_OAUTH_CLIENT_SECRET: 'pcs_another000000000000000000000000000000000000000',
  });
  assert.equal(other.stdout, '', shown(other));
});

test('bad options say what they take, with exit code 2, before any database is opened', async (t) => {
  for (const [args, why] of [
    [['--since', 'yesterday'], /--since takes an age such as 7d, 24h or 30m, or an ISO date/],
    [
      ['--outcome', 'approved'],
      /--outcome takes one of delivered, denied, cancelled, refused, blocked, expired, failed; got "approved"/,
    ],
    [['--limit', '0'], /--limit takes a whole number from 1 to/],
    [['--limit'], /The option --limit of logins needs a value/],
    [
      ['--verbose'],
      /Unknown option "--verbose" of logins: it takes --organization, --since, --outcome, --limit, --json/,
    ],
  ] as const) {
    const run = await logins(t, [...args], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    assert.equal(run.code, 2, shown(run));
    assert.match(run.stderr.split('\n')[0]!, why);
  }
  const serve = spawnNode(t, ['--import', TSX, CLI, 'serve', '--json'], { env: cleanEnv() });
  await serve.waitForExit(60_000);
  assert.match(
    serve.stderr(),
    /The option --json belongs to the logins command: postiz-cli-auth logins --json/,
  );
  const missing = spawnNode(t, ['--import', TSX, CLI, 'logins'], {
    env: cleanEnv({ PGLITE_DATA_DIR: 'memory' }),
  });
  const { code } = await missing.waitForExit(60_000);
  assert.equal(code, 1);
  assert.match(missing.stderr(), /^postiz-cli-auth: POSTIZ_OAUTH_CLIENT_SECRET is required/);
  // With the generic profile, the setting to set is its own.
  const missingOAuth = spawnNode(t, ['--import', TSX, CLI, 'logins'], {
    env: cleanEnv({ PGLITE_DATA_DIR: 'memory', UPSTREAM: 'oauth', OAUTH_ISSUER: 'https://id.example.com' }),
  });
  assert.equal((await missingOAuth.waitForExit(60_000)).code, 1);
  assert.match(missingOAuth.stderr(), /^postiz-cli-auth: OAUTH_CLIENT_SECRET is required/);
});

test('logins on the embedded database: read while no server runs, refused clearly while one does', {
  timeout: 120_000,
}, async (t) => {
  const dir = await tempDir(t, 'logins-pglite-');
  const store = new SqlStore(await pgliteDb(dir));
  await store.migrate();
  await ended(store, 20 * MINUTE, 'denied', { org: 'org_acme' });
  await ended(store, 5 * MINUTE, 'cancelled');
  await store.close();

  const read = await logins(t, [], { PGLITE_DATA_DIR: dir });
  assert.equal(read.code, 0, shown(read));
  assert.deepEqual(
    table(read.stdout)
      .slice(1)
      .map((r) => [r[1], r[3]]),
    [
      ['cancelled', '—'],
      ['denied', 'org_acme'],
    ],
  );

  const port = await freePort();
  const server = spawnNode(t, ['--import', TSX, CLI, 'serve'], {
    env: cleanEnv({
      POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
      POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
      PGLITE_DATA_DIR: dir,
      PORT: String(port),
      HOST: '127.0.0.1',
    }),
    cwd: dir,
  });
  await waitForHealth(`http://127.0.0.1:${port}`, server);
  const locked = await logins(t, [], { PGLITE_DATA_DIR: dir });
  assert.equal(locked.code, 1, shown(locked));
  assert.deepEqual(locked.stderr.trim().split('\n'), [
    `postiz-cli-auth: the embedded database in PGLITE_DATA_DIR ${dir} is in use by a running server (pid ${server.proc.pid}). It serves one process at a time, so logins can read it only while no server runs: stop the server and run logins again, or use PostgreSQL (DATABASE_URL), which logins reads beside running servers`,
  ]);
  server.proc.kill('SIGTERM');
  await server.waitForExit(30_000);

  for (const [value, why] of [
    ['memory', /PGLITE_DATA_DIR is memory: that database lives and dies inside the server process/],
    [
      join(dir, 'nothing-here'),
      /holds no database: set PGLITE_DATA_DIR \(or DATABASE_URL\) as the server has it/,
    ],
  ] as const) {
    const run = await logins(t, [], { PGLITE_DATA_DIR: value });
    assert.equal(run.code, 1, shown(run));
    assert.match(run.stderr, why);
  }
});
