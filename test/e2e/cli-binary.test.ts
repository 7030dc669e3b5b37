/**
 * The `postiz-cli-auth` binary as operators run it: help texts, exit codes, one clear line for
 * a bad setting, `migrate`, `serve` on PostgreSQL and from a `.env` file, and the built `dist/`.
 * Every run that reads settings happens in a temporary working directory, so no `.env` of the
 * checkout is read.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { PROMISED_SETTINGS, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../../harness/build.js';
import { usePostgres } from '../../harness/postgres.js';
import {
  cleanEnv,
  freePort,
  ROOT,
  spawnCommand,
  spawnNode,
  TSX,
  tempDir,
  waitForHealth,
} from '../../harness/processes.js';
import { SETTINGS } from '../../src/config.js';
import { defaultText, rangeText } from '../../src/settings-text.js';

const CLI = join(ROOT, 'src/cli.ts');

const pg = await usePostgres();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the binary from source to completion in `cwd` (a fresh temp dir by default). */
async function runCli(
  t: TestContext,
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<Run> {
  const dir = cwd ?? (await tempDir(t, 'cli-cwd-'));
  const child = spawnNode(t, ['--import', TSX, CLI, ...args], { env: cleanEnv(env), cwd: dir });
  const { code } = await child.waitForExit(60_000);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** The output of a run, for assertion messages. */
const shown = (run: Run) => `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;

/** No stack trace ("    at f (file:1:2)") anywhere in `text`. */
function assertNoStack(text: string): void {
  assert.doesNotMatch(text, /^\s+at .+:\d+/m);
}

test('--help on the binary and on each command exits 0', async (t) => {
  const usage = await runCli(t, ['--help']);
  assert.equal(usage.code, 0, shown(usage));
  for (const command of ['serve', 'demo', 'migrate']) assert.match(usage.stdout, new RegExp(command));

  for (const command of ['serve', 'demo', 'migrate']) {
    const run = await runCli(t, [command, '--help']);
    assert.equal(run.code, 0, shown(run));
    assert.match(run.stdout, new RegExp(`postiz-cli-auth ${command}`), shown(run));
  }
});

test('serve --help lists every variable promised to operators', async (t) => {
  const run = await runCli(t, ['serve', '--help']);
  assert.equal(run.code, 0, shown(run));
  for (const variable of PROMISED_SETTINGS)
    assert.match(run.stdout, new RegExp(`\\b${variable}\\b`), `${variable} missing\n${shown(run)}`);
});

test('serve --help shows each setting with its default and the values it accepts', async (t) => {
  const run = await runCli(t, ['serve', '--help']);
  assert.equal(run.code, 0, shown(run));
  for (const setting of SETTINGS) {
    // A setting only the generic profile needs says so.
    const required = setting.profile === 'oauth' ? 'required with UPSTREAM=oauth' : 'required';
    const facts = [setting.required ? required : `default: ${defaultText(setting) ?? 'unset'}`];
    if (rangeText(setting)) facts.push(`accepts: ${rangeText(setting)}`);
    assert.ok(
      run.stdout.includes(`  ${setting.env}  (${facts.join('; ')})`),
      `${setting.env}\n${shown(run)}`,
    );
  }
  assert.match(run.stdout, /PORT {2}\(default: 3111; accepts: 0–65535\)/);
  assert.match(run.stdout, /OAUTH_CLIENT_SECRET {2}\(required with UPSTREAM=oauth\)/);
  assert.match(run.stdout, /SERVER_URL {2}\(default: http:\/\/localhost:\{PORT\}\)/);
});

test('--version prints the version and runs nothing', async (t) => {
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const args of [['--version'], ['serve', '--version'], ['-V']]) {
    const run = await runCli(t, args, { SOURCE_COMMIT: '0123456789abcdef' });
    assert.equal(run.code, 0, shown(run));
    assert.equal(
      run.stdout,
      `postiz-cli-auth ${version} (commit 0123456789ab, Node.js ${process.version})\n`,
    );
  }
});

test('an unknown flag exits 2 naming the setting it meant, instead of being ignored', async (t) => {
  const run = await runCli(t, ['serve', '--port', '4000'], {
    POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
    POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
    PGLITE_DATA_DIR: 'memory',
  });
  assert.equal(run.code, 2, shown(run));
  assert.match(
    run.stderr.split('\n')[0]!,
    /^Unknown option "--port": settings are environment variables: PORT=4000 postiz-cli-auth serve/,
  );
  assert.equal(run.stdout, '');
});

test('production with a misspelt DATABASE_URL refuses the embedded database in one line that names the misspelling', async (t) => {
  const run = await runCli(t, ['serve'], {
    NODE_ENV: 'production',
    DATABSE_URL: 'postgres://db/auth',
    POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
    POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
  });
  assert.equal(run.code, 1, shown(run));
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, shown(run));
  assert.match(
    lines[0]!,
    /^postiz-cli-auth: NODE_ENV=production but neither DATABASE_URL nor PGLITE_DATA_DIR is set: .* \(DATABSE_URL is set: did you mean DATABASE_URL\?\)$/,
  );
  assertNoStack(`${run.stdout}\n${run.stderr}`);
});

test('a misspelt setting, a loopback SERVER_URL and TRUST_PROXY=true in production are warned about at start-up', async (t) => {
  const port = await freePort();
  const cwd = await tempDir(t, 'cli-cwd-');
  const child = spawnNode(t, ['--import', TSX, CLI, 'serve'], {
    cwd,
    env: cleanEnv({
      NODE_ENV: 'production',
      PGLITE_DATA_DIR: 'memory',
      POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
      POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
      POSTIZ_OAUTH_CLIENT_SECERT: 'pcs_typo',
      TRUST_PROXY: 'true',
      PORT: String(port),
      HOST: '127.0.0.1',
      SOURCE_COMMIT: 'abcdef1234567',
    }),
  });
  await waitForHealth(`http://127.0.0.1:${port}`, child);
  const lines = child
    .stdout()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const messages = lines.map((l) => l.msg);
  assert.ok(
    messages.includes(
      'POSTIZ_OAUTH_CLIENT_SECERT is set but is not a setting of this server, so it is ignored: did you mean POSTIZ_OAUTH_CLIENT_SECRET?',
    ),
    child.stdout(),
  );
  assert.ok(
    messages.some((m) =>
      String(m).startsWith(
        `SERVER_URL is http://localhost:${port} (the default: SERVER_URL is not set), a loopback address, while NODE_ENV=production`,
      ),
    ),
    child.stdout(),
  );
  assert.ok(
    lines.some(
      (l) => l.level === 40 && String(l.msg).startsWith('TRUST_PROXY=true takes the client address'),
    ),
    child.stdout(),
  );
  const starting = lines.find((l) => l.msg === 'starting');
  assert.equal(starting?.commit, 'abcdef123456');
  assert.equal(starting?.node, process.version);
  assert.match(String(starting?.version), /^\d+\.\d+\.\d+/);
  const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, string>;
  assert.deepEqual(health, { status: 'ok', version: starting?.version, commit: 'abcdef123456' });
  child.proc.kill('SIGTERM');
  await child.waitForExit(30_000);
});

test('an unknown command exits 2', async (t) => {
  const run = await runCli(t, ['frobnicate']);
  assert.equal(run.code, 2, shown(run));
  assert.match(run.stderr, /frobnicate/);
});

test('serve without POSTIZ_OAUTH_CLIENT_ID exits 1 with one clear line', async (t) => {
  const run = await runCli(t, ['serve'], {
    POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
    PGLITE_DATA_DIR: 'memory',
  });
  assert.equal(run.code, 1, shown(run));
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, shown(run));
  assert.match(lines[0] ?? '', /POSTIZ_OAUTH_CLIENT_ID is required/);
  assertNoStack(`${run.stdout}\n${run.stderr}`);
});

test('a malformed PORT stops the server with a line naming PORT', async (t) => {
  const run = await runCli(t, ['serve'], {
    POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
    POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
    PGLITE_DATA_DIR: 'memory',
    PORT: 'abc',
  });
  assert.equal(run.code, 1, shown(run));
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, shown(run));
  assert.match(lines[0] ?? '', /\bPORT\b/);
  assertNoStack(`${run.stdout}\n${run.stderr}`);
});

test('migrate needs no client id, and a second run finds the database up to date', async (t) => {
  const data = await tempDir(t, 'cli-pglite-');
  const env = { PGLITE_DATA_DIR: data };
  const first = await runCli(t, ['migrate'], env);
  assert.equal(first.code, 0, shown(first));
  assert.doesNotMatch(`${first.stdout}${first.stderr}`, /up to date/, shown(first));
  const second = await runCli(t, ['migrate'], env);
  assert.equal(second.code, 0, shown(second));
  assert.match(`${second.stdout}${second.stderr}`, /up to date/, shown(second));
});

test('serve on PostgreSQL answers /health and exits 0 on SIGTERM', {
  skip: !pg && 'no PostgreSQL',
}, async (t) => {
  const port = await freePort();
  const cwd = await tempDir(t, 'cli-cwd-');
  const child = spawnNode(t, ['--import', TSX, CLI, 'serve'], {
    cwd,
    env: cleanEnv({
      DATABASE_URL: await pg!.createDatabase(),
      POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
      POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
    }),
  });
  await waitForHealth(`http://127.0.0.1:${port}`, child);
  const ready = await fetch(`http://127.0.0.1:${port}/ready`);
  assert.equal(ready.status, 200);

  child.proc.kill('SIGTERM');
  const { code, signal } = await child.waitForExit(30_000);
  assert.equal(signal, null, child.stderr());
  assert.equal(code, 0, child.stderr());
});

test('a second process on the same PGLITE_DATA_DIR refuses to start, naming the directory; a stale lock is taken over', async (t) => {
  const data = await tempDir(t, 'cli-pglite-lock-');
  const port = await freePort();
  const settings = (p: number) => ({
    POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
    POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
    PGLITE_DATA_DIR: data,
    PORT: String(p),
    HOST: '127.0.0.1',
  });
  const first = spawnNode(t, ['--import', TSX, CLI, 'serve'], { cwd: data, env: cleanEnv(settings(port)) });
  await waitForHealth(`http://127.0.0.1:${port}`, first);

  const second = await runCli(t, ['serve'], settings(await freePort()));
  assert.equal(second.code, 1, shown(second));
  const lines = second.stderr.trim().split('\n');
  assert.equal(lines.length, 1, shown(second));
  assert.match(
    lines[0]!,
    new RegExp(
      `PGLITE_DATA_DIR ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another process \\(pid ${first.proc.pid}\\)`,
    ),
  );
  assertNoStack(`${second.stdout}\n${second.stderr}`);

  // The first one is killed outright: its lock stays behind, naming a pid that no longer runs.
  first.proc.kill('SIGKILL');
  await first.waitForExit(30_000);
  const migrated = await runCli(t, ['migrate'], { PGLITE_DATA_DIR: data });
  assert.equal(migrated.code, 0, shown(migrated));
});

test('an unusable PGLITE_DATA_DIR says which directory and why, in one line', async (t) => {
  const file = join(await tempDir(t, 'cli-pglite-file-'), 'not-a-directory');
  await writeFile(file, 'x');
  const garbage = await tempDir(t, 'cli-pglite-garbage-');
  await writeFile(join(garbage, 'PG_VERSION'), 'not a database\n');
  const other = await tempDir(t, 'cli-pglite-other-');
  await writeFile(join(other, 'notes.txt'), 'my files\n');
  const older = await tempDir(t, 'cli-pglite-older-');
  await writeFile(join(older, 'PG_VERSION'), '15\n');
  for (const [dir, why] of [
    [join(file, 'data'), /cannot be created \(ENOTDIR\)/],
    [garbage, /names no PostgreSQL version/],
    [other, /is not empty and holds no database/],
    [older, /could not be opened as a database: .*\(it holds a PostgreSQL 15 database/],
  ] as const) {
    const run = await runCli(t, ['migrate'], { PGLITE_DATA_DIR: dir });
    assert.equal(run.code, 1, shown(run));
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, shown(run));
    assert.ok(lines[0]!.includes(`PGLITE_DATA_DIR ${dir}`), shown(run));
    assert.match(lines[0]!, why);
    assert.doesNotMatch(lines[0]!, /\[object Object\]|failed to initialize properly$/);
  }
});

test('serve reads .env from the working directory', async (t) => {
  const port = await freePort();
  const cwd = await tempDir(t, 'cli-dotenv-');
  await writeFile(
    join(cwd, '.env'),
    [
      `POSTIZ_OAUTH_CLIENT_ID=${TEST_CLIENT_ID}`,
      `POSTIZ_OAUTH_CLIENT_SECRET=${TEST_CLIENT_SECRET}`,
      `PORT=${port}`,
      'HOST=127.0.0.1',
      'PGLITE_DATA_DIR=memory',
      '',
    ].join('\n'),
  );
  const child = spawnNode(t, ['--import', TSX, CLI, 'serve'], { cwd, env: cleanEnv() });
  await waitForHealth(`http://127.0.0.1:${port}`, child);

  child.proc.kill('SIGTERM');
  const { code } = await child.waitForExit(30_000);
  assert.equal(code, 0, child.stderr());
});

test('npm run build produces a dist/cli.js that runs', { timeout: 300_000 }, async (t) => {
  const build = spawnCommand(t, 'npm', ['run', 'build'], { env: cleanEnv() });
  const built = await build.waitForExit(240_000);
  assert.equal(built.code, 0, `${build.stdout()}\n${build.stderr()}`);

  const help = spawnNode(t, [join(ROOT, 'dist/cli.js'), '--help'], { env: cleanEnv() });
  const { code } = await help.waitForExit(30_000);
  assert.equal(code, 0, help.stderr());
  assert.match(help.stdout(), /Usage: postiz-cli-auth/);

  await t.test('the bundle knows its version and the commit it was built from', async (t) => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const git = spawnCommand(t, 'git', ['rev-parse', '--short=12', 'HEAD'], { env: cleanEnv() });
    const commit = (await git.waitForExit(10_000)).code === 0 ? git.stdout().trim() : 'unknown';
    const run = spawnNode(t, [join(ROOT, 'dist/cli.js'), '--version'], { env: cleanEnv() });
    assert.equal((await run.waitForExit(30_000)).code, 0, run.stderr());
    assert.equal(run.stdout(), `postiz-cli-auth ${version} (commit ${commit}, Node.js ${process.version})\n`);
  });

  await t.test("the Dockerfile's command maps a stack trace into src/", async (t) => {
    // The image's CMD as written, run here: Docker is not needed to see what it prints.
    const cmd = JSON.parse(
      /^CMD (\[.*\])$/m.exec(await readFile(join(ROOT, 'Dockerfile'), 'utf8'))![1]!,
    ) as string[];
    assert.deepEqual(cmd, ['node', '--enable-source-maps', 'dist/cli.js', 'serve']);
    const file = join(await tempDir(t, 'bundle-stack-'), 'not-a-directory');
    await writeFile(file, 'x');
    const env = cleanEnv({
      POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
      POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
      PGLITE_DATA_DIR: join(file, 'data'),
      LOG_LEVEL: 'debug',
    });
    const run = spawnNode(t, cmd.slice(1), { env });
    assert.equal((await run.waitForExit(60_000)).code, 1, run.stderr());
    assert.match(run.stderr(), /^postiz-cli-auth: PGLITE_DATA_DIR .* cannot be created \(ENOTDIR\)/);
    assert.match(run.stderr(), /^\s+at .*src\/storage\/pglite\.ts:\d+:\d+/m, run.stderr());
    // Without the flag the same frame points into the bundle: the flag is what maps it.
    const bare = spawnNode(
      t,
      cmd.slice(1).filter((a) => a !== '--enable-source-maps'),
      { env },
    );
    await bare.waitForExit(60_000);
    assert.doesNotMatch(bare.stderr(), /src\/storage\/pglite\.ts/);
    assert.match(bare.stderr(), /^\s+at .*dist\/[\w-]+\.js:\d+:\d+/m, bare.stderr());
  });
});
