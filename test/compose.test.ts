/**
 * docker-compose.yml, checked where Docker is not: every variable it sets for the server is a
 * setting, and with its defaults they make a configuration production accepts; the health
 * checks' commands are run as written, against a real PostgreSQL and a real server started
 * with the file's environment; its PgBouncer is configured as the tests' PgBouncer is.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createStandIn } from '../demo/stand-in/index.js';
import { IGNORED_STARTUP_PARAMETERS } from '../harness/pgbouncer.js';
import { usePostgres } from '../harness/postgres.js';
import { cleanEnv, freePort, ROOT, spawnNode, TSX, tempDir, waitForHealth } from '../harness/processes.js';
import { loadConfig, SETTINGS } from '../src/config.js';
import { embeddedDatabaseProblem, startupWarnings } from '../src/guardrails.js';
import { unknownVariables } from '../src/settings-typos.js';

const execFileAsync = promisify(execFile);
const pg = await usePostgres();

interface Service {
  image?: string;
  build?: unknown;
  command?: unknown;
  profiles?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const server = compose.services['postiz-cli-auth']!;
const postgres = compose.services.postgres!;
const pgbouncer = compose.services.pgbouncer!;

/** Compose's interpolation (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`, nested) over `vars`. */
function interpolate(text: string, vars: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text.startsWith('$$', i)) {
      out += '$';
      i += 2;
    } else if (text.startsWith('${', i)) {
      let depth = 0;
      let end = i;
      for (; end < text.length; end++) {
        if (text.startsWith('${', end)) depth++;
        else if (text[end] === '}' && --depth === 0) break;
      }
      const body = text.slice(i + 2, end);
      const [, name = '', op, rest = ''] = /^(\w+)(:-|:\?|-|\?)?([\s\S]*)$/.exec(body) ?? [];
      const value = vars[name];
      if (value) out += value;
      else if (op === ':-' || op === '-') out += interpolate(rest, vars);
      else if (op === ':?' || op === '?') throw new Error(`${name}: ${rest}`);
      else out += '';
      i = end + 1;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}

/** What the operator's .env gives compose in the README's example. */
const GIVEN = {
  POSTIZ_OAUTH_CLIENT_ID: 'pca_compose000000000000000000000000000',
  POSTIZ_OAUTH_CLIENT_SECRET: 'pcs_compose0000000000000000000000000000000000000000',
  SERVER_URL: 'https://cli-auth.example.com',
};
const resolved = (vars: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(server.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]),
  );

test('every variable it sets for the server is a setting', () => {
  const names = new Set(SETTINGS.map((s) => s.env));
  const unknown = Object.keys(server.environment ?? {}).filter((name) => !names.has(name));
  assert.deepEqual(unknown, [], 'not settings of src/config.ts');
});

test('with the .env the README asks for, the image (NODE_ENV=production) accepts the configuration without a warning', () => {
  const env = { ...resolved(GIVEN), NODE_ENV: 'production' };
  const config = loadConfig(env);
  assert.equal(new URL(config.databaseUrl!).hostname, 'postgres');
  assert.equal(new URL(config.databaseDirectUrl!).hostname, 'postgres');
  assert.equal(config.serverUrl, GIVEN.SERVER_URL);
  assert.deepEqual(config.trustProxy, ['uniquelocal']);
  assert.equal(embeddedDatabaseProblem(config, env), undefined);
  assert.deepEqual(startupWarnings(config, env), []);
  assert.deepEqual(
    unknownVariables(
      env,
      SETTINGS.map((s) => s.env),
    ),
    [],
  );
  // A password holding reserved characters must be percent-encoded, as the file's header says.
  assert.throws(
    () => loadConfig({ ...resolved({ ...GIVEN, POSTGRES_PASSWORD: 'a/b#c' }) }),
    /percent-encode/,
  );
  assert.equal(
    loadConfig(resolved({ ...GIVEN, POSTGRES_PASSWORD: 'a%2Fb%23c' })).databaseUrl,
    'postgres://postiz_cli_auth:a%2Fb%23c@postgres:5432/postiz_cli_auth',
  );
});

test('the credentials and SERVER_URL are required, each named', () => {
  for (const name of Object.keys(GIVEN)) {
    const { [name]: _left, ...others } = GIVEN as Record<string, string>;
    assert.throws(() => resolved(others), new RegExp(`^Error: ${name}: set ${name} in \\.env`));
  }
});

test('a PORT in .env is the port the server listens on and the one compose publishes (3111 without one)', () => {
  for (const [vars, port] of [
    [GIVEN, '3111'],
    [{ ...GIVEN, PORT: '4000' }, '4000'],
  ] as const) {
    assert.equal(resolved(vars).PORT, port, 'the environment compose gives the server');
    assert.deepEqual(
      (server.ports ?? []).map((p) => interpolate(p, vars)),
      [`${port}:${port}`],
      'the published port',
    );
    assert.equal(loadConfig(resolved(vars)).port, Number(port));
  }
});

test('every image is pinned to a version tag', () => {
  for (const [name, service] of Object.entries(compose.services)) {
    if (!service.image) continue;
    const tag = /^[^:/]+(?:\/[^:]+)?:([^:@]+)$/.exec(service.image)?.[1];
    assert.ok(tag && tag !== 'latest' && /\d/.test(tag), `${name}: ${service.image} has no version tag`);
  }
});

test("the server waits for a healthy PostgreSQL, runs the image as built, and PgBouncer is the tests' PgBouncer", () => {
  assert.ok(server.build, 'built from the Dockerfile');
  assert.equal(
    server.command,
    undefined,
    "the Dockerfile's CMD (node --enable-source-maps dist/cli.js serve)",
  );
  assert.deepEqual(server.depends_on, { postgres: { condition: 'service_healthy' } });
  assert.deepEqual(pgbouncer.profiles, ['pgbouncer']);
  const bouncer = pgbouncer.environment ?? {};
  assert.equal(bouncer.POOL_MODE, 'transaction');
  assert.deepEqual(String(bouncer.IGNORE_STARTUP_PARAMETERS).split(','), IGNORED_STARTUP_PARAMETERS);
  // LISTEN and migrations go around the pooler, to PostgreSQL itself.
  assert.equal(interpolate(String(bouncer.DATABASE_URL), GIVEN), resolved(GIVEN).DATABASE_DIRECT_URL);
});

test("PostgreSQL's health check, run as written, finds a running PostgreSQL", {
  skip: !pg && 'no PostgreSQL',
}, async () => {
  const [kind, command, ...args] = postgres.healthcheck!.test;
  assert.equal(kind, 'CMD');
  assert.equal(command, 'pg_isready');
  // In the container it asks the local socket; here, the test cluster's port.
  const { stdout } = await execFileAsync(command, [...args, '-h', '127.0.0.1', '-p', String(pg!.port)]);
  assert.match(stdout, /accepting connections/);
});

test("the server's health check, run as written, passes on a server started with the file's environment, and fails once it stops", {
  skip: !pg && 'no PostgreSQL',
  timeout: 120_000,
}, async (t) => {
  const database = await pg!.createDatabase();
  const port = await freePort();
  // Postiz knows the app .env names, so the credentials check at start-up finds them right.
  const standIn = createStandIn({
    clients: [
      {
        clientId: GIVEN.POSTIZ_OAUTH_CLIENT_ID,
        clientSecret: GIVEN.POSTIZ_OAUTH_CLIENT_SECRET,
        redirectUri: `${GIVEN.SERVER_URL}/device/callback`,
        name: 'Postiz CLI',
      },
    ],
  });
  const postizUrl = await standIn.listen();
  t.after(() => standIn.close());
  const env = {
    ...resolved(GIVEN),
    // Outside Docker: the test's PostgreSQL instead of the `postgres` service, a free port,
    // and a Postiz stand-in (the default POSTIZ_API_URL is on the internet).
    DATABASE_URL: database,
    DATABASE_DIRECT_URL: database,
    PORT: String(port),
    POSTIZ_API_URL: postizUrl,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
  };
  const child = spawnNode(t, ['--import', TSX, join(ROOT, 'src/cli.ts'), 'serve'], {
    cwd: await tempDir(t, 'compose-'),
    env: cleanEnv(env),
  });
  await waitForHealth(`http://127.0.0.1:${port}`, child);
  assert.equal(child.stdout(), '', 'no warning at start-up');

  const [kind, command, ...args] = server.healthcheck!.test;
  assert.deepEqual([kind, command], ['CMD', 'node']);
  const check = () =>
    execFileAsync(process.execPath, args, { env: cleanEnv({ PORT: String(port) }) }).then(
      () => 0,
      (err: { code?: number }) => err.code ?? 1,
    );
  assert.equal(await check(), 0);
  child.proc.kill('SIGTERM');
  await child.waitForExit(30_000);
  assert.equal(await check(), 1);
});

test("docs/deploy.md's compose table names the PgBouncer image the file pins", () => {
  const deploy = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
  assert.ok(deploy.includes(`\`${pgbouncer.image}\``), `docs/deploy.md names ${pgbouncer.image}`);
  assert.match(deploy, /`PORT` from `\.env` \(3111 without one\) both listened on and published/);
});
