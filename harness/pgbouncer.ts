/**
 * A throwaway PgBouncer (Debian's package) in front of a test PostgreSQL, for the pooler
 * tests. PgBouncer refuses to run as root, so as root it runs as the `postgres` user, in a
 * directory that user owns. `null` when pgbouncer is not installed (callers skip, or fail
 * with REQUIRE_POSTGRES=1, as for PostgreSQL itself).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { waitFor } from './postgres.js';

const BINARIES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'];

/** What the tests' PgBouncer drops instead of refusing (docker-compose.yml's matches it). */
export const IGNORED_STARTUP_PARAMETERS = ['extra_float_digits', 'options'];

export interface PgBouncer {
  /** `postgres://postgres@127.0.0.1:<port>/<database>` through the pooler. */
  url(database: string): string;
  stop(): Promise<void>;
}

/** Why the pooler tests cannot run here, or undefined when they can. */
export function pgbouncerMissing(): string | undefined {
  return BINARIES.some((b) => existsSync(b))
    ? undefined
    : 'pgbouncer is not installed (apt-get install pgbouncer)';
}

/**
 * Start PgBouncer in `mode` in front of the PostgreSQL on 127.0.0.1:`pgPort` (trust
 * authentication). `ignoreStartupParameters`: what it drops instead of refusing (default
 * `extra_float_digits` and `options`, which the server sends when a URL has `options`).
 */
export async function startPgBouncer(
  pgPort: number,
  mode: 'transaction' | 'session',
  options: { ignoreStartupParameters?: string[] } = {},
): Promise<PgBouncer> {
  const binary = BINARIES.find((b) => existsSync(b));
  if (!binary) throw new Error(pgbouncerMissing());
  const dir = mkdtempSync(join(tmpdir(), 'pgbouncer-'));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=127.0.0.1 port=${pgPort} user=postgres`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir = ${dir}`,
      'auth_type = any',
      `pool_mode = ${mode}`,
      'max_client_conn = 500',
      'default_pool_size = 20',
      `ignore_startup_parameters = ${(options.ignoreStartupParameters ?? IGNORED_STARTUP_PARAMETERS).join(',')}`,
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chownSync(join(dir, 'pgbouncer.ini'), uid, gid);
  }
  const command = asRoot
    ? ['runuser', ['-u', 'postgres', '--', binary, join(dir, 'pgbouncer.ini')]]
    : [binary, [join(dir, 'pgbouncer.ini')]];
  const proc: ChildProcess = spawn(command[0] as string, command[1] as string[], { stdio: 'ignore' });
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      // runuser passes the signal on; pgbouncer exits at once (SIGTERM is its immediate shutdown).
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        const client = new pg.Client({ connectionString: url('postgres') });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => {});
        }
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}
