/**
 * Real-PostgreSQL harness for tests (README, "Tests").
 *
 * - `TEST_DATABASE_URL` set: reuse that server (createDatabase works, kill/restart don't).
 * - otherwise: start a throwaway cluster from the installed initdb/pg_ctl (as the `postgres`
 *   user when running as root) on 127.0.0.1 and a free port, and remove it afterwards.
 * - none available: `null`, or a thrown error when `REQUIRE_POSTGRES=1`.
 *
 * A throwaway cluster never outlives the node process: a process 'exit' handler stops it
 * synchronously, and a detached watchdog shell stops it when the process dies in a way no
 * handler sees (SIGKILL, crash).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadMigrations } from '../src/storage/migrate.js';
import { freePort } from './ports.js';

const execFileAsync = promisify(execFile);

/** How to start a throwaway cluster. */
export interface ClusterOptions {
  /**
   * TLS on (`ssl = on`) with a certificate for the host name `localhost` only (not 127.0.0.1),
   * signed by a certificate authority made for this cluster. With `only`, pg_hba.conf accepts
   * TLS connections only (`hostssl`).
   */
  tls?: { only?: boolean };
}

export interface PostgresCluster {
  /** postgres://… of the default database (trust auth on 127.0.0.1). */
  url: string;
  /** With `tls`: the certificate authority's certificate (PEM), and one of another authority. */
  tls?: { caFile: string; otherCaFile: string };
  /** The server's port on 127.0.0.1. */
  port: number;
  /** Creates a fresh empty database (unique name when omitted) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** SIGKILL the postmaster and its backends (an outage); resolves once they are gone. */
  kill(): Promise<void>;
  /** Start again on the same port and data dir after kill(); resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Fast shutdown and removal of the data dir (TEST_DATABASE_URL: drops the databases it created). Idempotent. */
  stop(): Promise<void>;
}

/** Polls `fn` until it returns a truthy value without throwing; throws (with the last error) after `timeoutMs`. */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waitFor: condition not met within ${timeoutMs} ms${why}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const NOT_SUPPORTED = 'not supported with TEST_DATABASE_URL';
let dbCounter = 0;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {}); // the server may go away under us (kill()); the query rejects anyway
  try {
    await client.connect();
    return await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

async function createDatabaseOn(
  url: string,
  name: string | undefined,
): Promise<{ name: string; url: string }> {
  const dbName = name ?? `test_${process.pid}_${++dbCounter}_${Math.random().toString(36).slice(2, 8)}`;
  await query(url, `CREATE DATABASE ${quoteIdent(dbName)}`);
  return { name: dbName, url: withDatabase(url, dbName) };
}

// ---------------------------------------------------------------------------------------------
// Binaries and users

const BIN_NAMES = ['initdb', 'pg_ctl', 'postgres'];

function hasBinaries(dir: string): boolean {
  return BIN_NAMES.every((b) => existsSync(join(dir, b)));
}

function findBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v) && hasBinaries(join(root, v, 'bin')))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dir && hasBinaries(dir)) return dir;
  } catch {
    // no pg_config on PATH
  }
  return null;
}

/** uid/gid of the `postgres` user, or null when it does not exist. */
function postgresUser(): { uid: number; gid: number } | null {
  try {
    const id = (flag: string) =>
      Number(
        execFileSync('id', [flag, 'postgres'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim(),
      );
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Linux process state letter ("R", "S", "Z", …) or null when the process does not exist. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    try {
      process.kill(pid, 0);
      return '?'; // alive, no /proc
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? '?' : null;
    }
  }
}

/** Alive and not a zombie (zombies are dead processes no parent has reaped yet). */
function isAlive(pid: number): boolean {
  const state = procState(pid);
  return state !== null && state !== 'Z' && state !== 'X';
}

/** Whether `pid` runs with `arg` on its command line; true when that can't be checked (no /proc). */
function hasArg(pid: number, arg: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(arg);
  } catch {
    return !existsSync('/proc/self');
  }
}

function childPids(ppid: number): number[] {
  const pids: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

// Clusters still running in this process: stopped synchronously on exit.
const live = new Set<{ stopSync(): void }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.stopSync();
  });
}

// Runs on its own when this process dies: waits for EOF on stdin ("done" = stood down).
const WATCHDOG = `trap '' HUP INT TERM
read -r line || true
[ "$line" = done ] && exit 0
data=$1; base=$2; shift 2
"$@" stop -D "$data" -m immediate -w -t 20 >/dev/null 2>&1
rm -rf "$base"`;

// ---------------------------------------------------------------------------------------------
// Throwaway cluster

/**
 * A certificate authority and a server certificate it signed for `localhost`, plus an
 * unrelated authority, made with openssl in `dir` (keys readable by the owner only).
 */
async function makeCertificates(
  dir: string,
): Promise<{ ca: string; other: string; cert: string; key: string }> {
  const openssl = (...args: string[]) => execFileAsync('openssl', args, { cwd: dir, timeout: 30_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=test CA',
    '-days',
    '2',
  );
  await openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'other.key',
    '-out',
    'other.crt',
    '-subj',
    '/CN=other CA',
    '-days',
    '2',
  );
  await openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  appendFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  return {
    ca: join(dir, 'ca.crt'),
    other: join(dir, 'other.crt'),
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
  };
}

async function startCluster(binDir: string, options: ClusterOptions = {}): Promise<PostgresCluster> {
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? postgresUser() : null;
  if (asRoot && !user)
    throw new Error("running as root, but there is no 'postgres' user to run PostgreSQL as");
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser'].find((p) => existsSync(p)) ?? 'runuser';
  const runAs = (bin: string) =>
    asRoot ? [runuser, '-u', 'postgres', '--', join(binDir, bin)] : [join(binDir, bin)];

  const base = await mkdtemp(join(tmpdir(), 'pgtest-'));
  const data = join(base, 'data');
  const sock = join(base, 'sock');
  const log = join(base, 'postgres.log');
  const pgCtl = runAs('pg_ctl');
  mkdirSync(sock);
  if (user) {
    await chown(base, user.uid, user.gid);
    await chown(sock, user.uid, user.gid);
  }

  const run = async (cmd: string[], timeoutMs = 60_000) => {
    const [file, ...args] = cmd as [string, ...string[]];
    try {
      await execFileAsync(file, args, { cwd: base, timeout: timeoutMs });
    } catch (err) {
      const e = err as Error & { stderr?: string; stdout?: string };
      let logTail = '';
      try {
        logTail = (await readFile(log, 'utf8')).split('\n').slice(-15).join('\n');
      } catch {}
      throw new Error(
        `${cmd.join(' ')} failed: ${e.stderr || e.stdout || e.message}${logTail ? `\n--- ${log} ---\n${logTail}` : ''}`,
        { cause: err },
      );
    }
  };

  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'pg-watchdog', data, base, ...pgCtl], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  watchdog.stdin?.on('error', () => {});

  let port = 0;
  let url = '';
  let tlsFiles: PostgresCluster['tls'];
  let state: 'running' | 'killed' | 'stopped' = 'stopped';

  const stopSync = () => {
    live.delete(handle);
    if (state === 'running') {
      try {
        const [file, ...args] = pgCtl as [string, ...string[]];
        execFileSync(file, [...args, 'stop', '-D', data, '-m', 'immediate', '-w', '-t', '20'], {
          cwd: base,
          stdio: 'ignore',
          timeout: 25_000,
        });
      } catch {
        killServer();
      }
    } else if (state === 'killed') {
      killServer();
    }
    state = 'stopped';
    rmSync(base, { recursive: true, force: true });
  };
  const handle = { stopSync };

  /** SIGKILL the postmaster and its children; returns the pids killed. */
  const killServer = (): number[] => {
    const pid = readPid(join(data, 'postmaster.pid'));
    // a stale pid file may name a pid reused by someone else: only kill our postmaster (`postgres -D <data>`)
    if (!pid || !isAlive(pid) || !hasArg(pid, data)) return [];
    const pids = [pid, ...childPids(pid)];
    for (const p of pids) signal(p, 'SIGKILL');
    // backends forked between the snapshot and the kill are orphaned now; they exit on postmaster death
    return pids;
  };

  const waitReady = () => waitFor(() => query(url, 'SELECT 1').then(() => true), { timeoutMs: 15_000 });

  const pgStart = () => run([...pgCtl, 'start', '-D', data, '-l', log, '-w', '-t', '30', '-s']);

  try {
    await run([
      ...runAs('initdb'),
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    const conf = join(data, 'postgresql.conf');
    appendFileSync(
      conf,
      [
        '',
        '# test harness (harness/postgres.ts)',
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${sock}'`,
        'fsync = off',
        // synchronous_commit stays on: with fsync off it costs nothing measurable, and with it off a
        // kill() loses transactions committed in the last ~0.5 s, which outage tests would trip over.
        'full_page_writes = off',
        'max_connections = 200',
        '',
      ].join('\n'),
    );
    if (options.tls) {
      const certs = await makeCertificates(base);
      if (user) {
        for (const file of [certs.cert, certs.key]) await chown(file, user.uid, user.gid);
      }
      appendFileSync(conf, `ssl = on\nssl_cert_file = '${certs.cert}'\nssl_key_file = '${certs.key}'\n`);
      if (options.tls.only) {
        const hba = join(data, 'pg_hba.conf');
        writeFileSync(hba, readFileSync(hba, 'utf8').replace(/^host /gm, 'hostssl '));
      }
      tlsFiles = { caFile: certs.ca, otherCaFile: certs.other };
    }
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      // (`no-verify`: pg's own reading of the URL, for the harness's plain pg clients.)
      url = `postgres://postgres@127.0.0.1:${port}/postgres${options.tls?.only ? '?sslmode=no-verify' : ''}`;
      appendFileSync(conf, `port = ${port}\n`); // the last setting wins
      try {
        await pgStart();
        break;
      } catch (err) {
        // port grabbed by someone else between freePort() and bind: try another one
        const busy = /could not bind|could not create any TCP\/IP sockets|Address already in use/i.test(
          String(err),
        );
        if (!busy || attempt >= 5) throw err;
      }
    }
    state = 'running';
    live.add(handle);
    installExitHook();
    await waitReady();
  } catch (err) {
    state = 'killed'; // whatever got started dies with the directory
    stopSync();
    watchdog.stdin?.end('done\n');
    throw err;
  }

  return {
    url,
    port,
    tls: tlsFiles,
    async createDatabase(name?: string) {
      return (await createDatabaseOn(url, name)).url;
    },
    async kill() {
      if (state !== 'running') throw new Error(`kill(): cluster is ${state}`);
      const pids = killServer();
      state = 'killed';
      await waitFor(() => pids.every((p) => !isAlive(p)), { timeoutMs: 10_000, intervalMs: 20 });
    },
    async restart() {
      if (state !== 'killed') throw new Error(`restart(): cluster is ${state}, expected killed`);
      // A killed postmaster nobody reaped is a zombie whose pid still "exists": PostgreSQL would
      // take its lock files for a live server. Remove them (the pid is known to be dead).
      for (const lock of [join(data, 'postmaster.pid'), join(sock, `.s.PGSQL.${port}.lock`)]) {
        const pid = readPid(lock);
        if (pid && procState(pid) === 'Z') rmSync(lock, { force: true });
      }
      await pgStart();
      state = 'running';
      await waitReady();
    },
    async stop() {
      if (state === 'running') {
        await run([...pgCtl, 'stop', '-D', data, '-m', 'fast', '-w', '-t', '30', '-s']).catch(() =>
          killServer(),
        );
      } else if (state === 'killed') {
        killServer();
      }
      state = 'stopped';
      live.delete(handle);
      await rm(base, { recursive: true, force: true });
      watchdog.stdin?.end('done\n');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Existing server (TEST_DATABASE_URL)

async function useExisting(url: string): Promise<PostgresCluster> {
  try {
    await query(url, 'SELECT 1');
  } catch (err) {
    throw new Error(`TEST_DATABASE_URL is set but the server does not answer: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const created: string[] = [];
  return {
    url,
    port: Number(new URL(url).port || 5432),
    async createDatabase(name?: string) {
      const db = await createDatabaseOn(url, name);
      created.push(db.name);
      return db.url;
    },
    async kill() {
      throw new Error(`kill() is ${NOT_SUPPORTED}`);
    },
    async restart() {
      throw new Error(`restart() is ${NOT_SUPPORTED}`);
    },
    async stop() {
      // leave the server alone; drop the databases this harness created on it
      for (const name of created.splice(0)) {
        await query(url, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => {});
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Start (or reuse via TEST_DATABASE_URL) a PostgreSQL; null when none is available and REQUIRE_POSTGRES is not "1"; throws a clear error when REQUIRE_POSTGRES=1 and none is available. */
export async function startPostgres(options: ClusterOptions = {}): Promise<PostgresCluster | null> {
  const external = process.env.TEST_DATABASE_URL;
  // An existing server's TLS is not ours to set up: a TLS cluster needs the binaries.
  if (external && !options.tls) return useExisting(external);

  const binDir = findBinDir();
  const asRoot = process.getuid?.() === 0;
  const missing = !binDir
    ? 'no PostgreSQL binaries found (looked in /usr/lib/postgresql/*/bin and `pg_config --bindir`)'
    : asRoot && !postgresUser()
      ? "running as root but there is no 'postgres' user to run PostgreSQL as"
      : null;
  if (missing || !binDir) {
    if (process.env.REQUIRE_POSTGRES === '1') {
      throw new Error(
        `REQUIRE_POSTGRES=1 but no PostgreSQL is available: ${missing}. Install PostgreSQL (initdb/pg_ctl) or set TEST_DATABASE_URL.`,
      );
    }
    return null;
  }
  // Binaries present but the cluster fails to start: a real error, thrown whatever REQUIRE_POSTGRES says.
  return startCluster(binDir, options);
}

let shared: Promise<PostgresCluster | null> | null = null;

/**
 * For node:test files: returns the cluster (shared by the whole file), registering `after()` to stop it; null → callers skip.
 * Call it at the top level of the test file (`const pg = await usePostgres();`) so the `after()` hook belongs to the file.
 * node:test runs `after()` hooks in registration order, so the cluster stops before hooks registered
 * later (e.g. closing pools): pools need an 'error' listener, as the app's own pool has.
 */
export async function usePostgres(): Promise<PostgresCluster | null> {
  if (!shared) {
    const current = startPostgres();
    shared = current;
    after(async () => {
      if (shared === current) shared = null;
      const cluster = await current.catch(() => null);
      await cluster?.stop();
    });
  }
  return shared;
}

/** Assert that the database at `url` has every migration applied, each once. */
export async function assertMigrated(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(
      rows.map((r) => r.version),
      loadMigrations().map((m) => m.version),
    );
  } finally {
    await client.end();
  }
}
