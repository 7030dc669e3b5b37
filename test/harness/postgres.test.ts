import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres, usePostgres, waitFor } from '../../harness/postgres.js';

const external = process.env.TEST_DATABASE_URL;
const shared = await usePostgres();
const skip = shared ? false : 'no PostgreSQL available';
const ownCluster = skip || (external ? 'uses TEST_DATABASE_URL' : false);
const here = dirname(fileURLToPath(import.meta.url));

async function one(url: string, sql: string): Promise<Record<string, unknown> | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query(sql)).rows[0];
  } finally {
    await client.end().catch(() => {});
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
  } catch {
    return false;
  }
}

test('usePostgres shares one cluster per file', { skip }, async () => {
  assert.equal(await usePostgres(), shared);
  assert.equal((await one(shared!.url, 'SELECT 1 AS x'))?.x, 1);
});

test('throwaway cluster: start, query, createDatabase, kill, restart, stop', {
  skip: ownCluster,
}, async (t) => {
  const started = Date.now();
  const cluster = await startPostgres();
  assert.ok(cluster);
  t.diagnostic(`started in ${Date.now() - started} ms at ${cluster.url}`);
  try {
    assert.match(cluster.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const row = await one(
      cluster.url,
      "SELECT version() AS v, current_setting('data_directory') AS d, current_setting('fsync') AS f, current_setting('max_connections') AS m",
    );
    assert.match(String(row?.v), /^PostgreSQL \d+/);
    assert.equal(row?.f, 'off');
    assert.equal(row?.m, '200');
    const dataDir = String(row?.d);
    assert.ok(existsSync(dataDir));

    // createDatabase: unique fresh databases, and a named one
    const a = await cluster.createDatabase();
    const b = await cluster.createDatabase();
    assert.notEqual(a, b);
    const named = await cluster.createDatabase('harness_named');
    assert.match(named, /\/harness_named$/);
    await one(a, 'CREATE TABLE survivor AS SELECT 42 AS id');
    assert.equal(
      (await one(b, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'survivor'"))?.n,
      0,
    );
    assert.equal((await one(named, 'SELECT current_database() AS db'))?.db, 'harness_named');

    // kill: an open connection breaks and new ones are refused
    const open = new pg.Client({ connectionString: a });
    open.on('error', () => {});
    await open.connect();
    const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    await cluster.kill();
    assert.equal(alive(postmaster), false);
    await assert.rejects(open.query('SELECT 1'));
    await open.end().catch(() => {});
    await assert.rejects(one(a, 'SELECT 1'));

    // restart: same port and data
    await cluster.restart();
    assert.equal((await one(a, 'SELECT id FROM survivor'))?.id, 42);

    // stop: server gone, directory gone, idempotent
    await cluster.stop();
    assert.equal(existsSync(dataDir), false);
    assert.equal(existsSync(dirname(dataDir)), false);
    await assert.rejects(one(cluster.url, 'SELECT 1'));
    await cluster.stop();
  } finally {
    await cluster.stop();
  }
});

test('TEST_DATABASE_URL: reuses the server, createDatabase works, kill/restart refused', {
  skip,
}, async () => {
  const saved = process.env.TEST_DATABASE_URL;
  process.env.TEST_DATABASE_URL = shared!.url;
  try {
    const ext = await startPostgres();
    assert.ok(ext);
    assert.equal(ext.url, shared!.url);
    const db = await ext.createDatabase();
    assert.equal((await one(db, 'SELECT current_database() AS db'))?.db, new URL(db).pathname.slice(1));
    await assert.rejects(ext.kill(), /not supported with TEST_DATABASE_URL/);
    await assert.rejects(ext.restart(), /not supported with TEST_DATABASE_URL/);
    await ext.stop(); // leaves the server running, drops what it created
    assert.equal((await one(shared!.url, 'SELECT 1 AS x'))?.x, 1);
    await assert.rejects(one(db, 'SELECT 1'), /does not exist/);
  } finally {
    if (saved === undefined) delete process.env.TEST_DATABASE_URL;
    else process.env.TEST_DATABASE_URL = saved;
  }
});

test('an unreachable TEST_DATABASE_URL fails loudly', async () => {
  const script = `import { startPostgres } from ${JSON.stringify(join(here, '../../harness/postgres.ts'))};
		await startPostgres();`;
  const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, TEST_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  const code = await new Promise((r) => p.on('close', r));
  assert.notEqual(code, 0);
  assert.match(out, /TEST_DATABASE_URL is set but the server does not answer/);
});

for (const how of ['exits without stop()', 'is SIGKILLed'] as const) {
  test(`no leak when the process ${how}`, { skip: ownCluster }, async () => {
    const script = `import { startPostgres } from ${JSON.stringify(join(here, '../../harness/postgres.ts'))};
			import pg from "pg";
			const c = await startPostgres();
			const client = new pg.Client(c.url); await client.connect();
			const { rows } = await client.query("SELECT current_setting('data_directory') AS d");
			console.log(rows[0].d);
			process.stdin.once('data', () => process.exit(0)); // exits on request, without stop()`;
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const dataDir = await waitFor(() => (out.includes('\n') ? out.trim() : ''), { timeoutMs: 30_000 });
    const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    assert.ok(alive(postmaster));
    if (how === 'is SIGKILLed') p.kill('SIGKILL');
    else p.stdin!.write('exit\n');
    await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.on('exit', r)));
    await waitFor(() => !alive(postmaster) && !existsSync(dirname(dataDir)), { timeoutMs: 20_000 });
  });
}
