/** Open the store the configuration asks for: PostgreSQL when DATABASE_URL is set, else PGlite. */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { clientConfig, type DatabaseTarget, parseDatabaseUrl, tlsOptions } from './connection.js';
import { isDatabaseUnavailable, permanentHint } from './database-errors.js';
import type { Db } from './db.js';
import { droppingOriginalTableMessage, loadMigrations, runMigrations } from './migrate.js';
import { postgresDb } from './postgres.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';

type OpenConfig = Pick<
  Config,
  | 'databaseUrl'
  | 'databaseDirectUrl'
  | 'databaseCaFile'
  | 'databaseStartupTimeoutSeconds'
  | 'pgliteDataDir'
  | 'databasePoolSize'
>;

/** The configured store (not yet migrated). */
export async function openStore(config: OpenConfig, logger?: Logger): Promise<Store> {
  if (config.databaseUrl) {
    // A server may start a moment before its database (docker compose, Kubernetes): wait for it.
    const deadline = Date.now() + config.databaseStartupTimeoutSeconds * 1000;
    const open = (url: string, name: string) =>
      resolveConnection(parseDatabaseUrl(url, name), name, config.databaseCaFile, deadline, logger);
    const client = await open(config.databaseUrl, 'DATABASE_URL');
    const direct = config.databaseDirectUrl
      ? await open(config.databaseDirectUrl, 'DATABASE_DIRECT_URL')
      : undefined;
    const db = postgresDb({
      client,
      direct,
      max: config.databasePoolSize,
      onError: (err) => logger?.warn({ err }, 'database connection lost; the pool will reconnect'),
    });
    return reportingMigrations(new SqlStore(db), db, logger);
  }
  // Loaded only when used: PostgreSQL deployments never pay for the WASM build's import.
  const { pgliteDb } = await import('./pglite.js');
  const db = await pgliteDb(config.pgliteDataDir);
  return reportingMigrations(new SqlStore(db), db, logger);
}

/**
 * The store, whose `migrate()` logs what an upgrade throws away: the original server's table
 * and how many rows it held (the migrations themselves run as `SqlStore.migrate` runs them, in
 * one session under the advisory lock, so only the instance that drops the table says so).
 */
function reportingMigrations(store: SqlStore, db: Db, logger: Logger | undefined): Store {
  if (!logger) return store;
  store.migrate = () =>
    db.session((query) =>
      runMigrations(query, loadMigrations(), {
        droppingOriginalTable: (rows) =>
          logger.warn({ table: 'device_requests', rows }, droppingOriginalTableMessage(rows)),
      }),
    );
  return store;
}

/** Whether a failed first connection says the server has no TLS (so `prefer` goes without). */
const NO_TLS_ON_SERVER = /does not support SSL/i;
/** Whether it says the server wants TLS (so `allow` goes with it): pg_hba.conf has only hostssl lines. */
const TLS_REQUIRED = /no encryption|SSL off|SSL required/i;
const RETRY_MS = 1000;

/**
 * Client settings for `target` that work: connects once (`SELECT 1`). `prefer` tries TLS, then
 * without; `allow` without, then TLS, as libpq does, so the pool never has to guess. While the
 * server cannot be reached, tries again until `deadline`. Any failure is one line naming the
 * setting and the URL without its password.
 */
async function resolveConnection(
  target: DatabaseTarget,
  name: string,
  caFile: string | undefined,
  deadline: number,
  logger: Logger | undefined,
): Promise<pg.ClientConfig> {
  const fail = (why: string): never => {
    throw new Error(`cannot connect to the database at ${name} (${target.described}): ${why}`);
  };
  let tls: ReturnType<typeof tlsOptions>;
  try {
    tls = tlsOptions(target, caFile);
  } catch (err) {
    return fail((err as Error).message);
  }
  const candidates: (typeof tls)[] =
    target.sslmode === 'prefer' ? [tls, false] : target.sslmode === 'allow' ? [false, tls] : [tls];
  const { default: pg } = await import('pg');
  for (let warned = false; ; ) {
    let lastError: Error | undefined;
    for (const [i, ssl] of candidates.entries()) {
      const config = clientConfig(target, ssl);
      const client = new pg.Client(config);
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        return config;
      } catch (err) {
        lastError = err as Error;
        const next = i + 1 < candidates.length;
        const fallBack =
          (target.sslmode === 'prefer' && NO_TLS_ON_SERVER.test(lastError.message)) ||
          (target.sslmode === 'allow' && TLS_REQUIRED.test(lastError.message));
        if (!(next && fallBack)) break;
      } finally {
        await client.end().catch(() => {});
      }
    }
    const why = (lastError?.message ?? 'unknown error').split('\n')[0]!;
    // A refusal that waiting cannot change (a pooler refusing a parameter, a wrong password, no
    // such database or role) fails at once, with what to change.
    const hint = lastError && permanentHint(lastError, name);
    if (hint) return fail(`${why} (${hint})`);
    if (!lastError || !isDatabaseUnavailable(lastError) || Date.now() + RETRY_MS > deadline) {
      return fail(isDatabaseUnavailable(lastError) ? `${why} (gave up after waiting for it)` : why);
    }
    if (!warned) {
      logger?.warn(
        { database: target.described },
        `${name}: the database is not reachable yet (${why}); waiting for it`,
      );
      warned = true;
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
