/**
 * Versioned migrations: plain `.sql` files in `migrations/`, named `NNN_what.sql`, applied in
 * order, in one transaction under a PostgreSQL advisory lock, so that instances starting
 * together take turns instead of racing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from '../paths.js';
import type { Row } from './db.js';

type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;

// An arbitrary constant naming this application's lock (pg_advisory_lock takes a bigint).
const LOCK_ID = 7_368_297_114;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration on disk, in version order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
    .map((file) => ({
      version: Number.parseInt(file, 10),
      name: file.replace(/\.sql$/, ''),
      sql: readFileSync(join(dir, file), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version);
}

/** What a migration run tells its caller about, to be logged. */
export interface MigrationReport {
  /** The first migration is about to drop the original server's table, which holds `rows` rows. */
  droppingOriginalTable?(rows: number): void;
}

/**
 * The rows of the original single-file server's `device_requests` table (the one keyed by a
 * plain-text `device_code`), or undefined when there is no such table. Migration 001 drops it.
 */
export async function originalTableRows(query: Query): Promise<number | undefined> {
  const [found] = await query(
    `SELECT 1 FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'device_requests' AND column_name = 'device_code'`,
    [],
  );
  if (!found) return undefined;
  const [count] = await query('SELECT count(*)::int AS n FROM device_requests', []);
  return Number(count?.n ?? 0);
}

/** The line logged when the original server's table is dropped. */
export function droppingOriginalTableMessage(rows: number): string {
  return `dropping the original server's device_requests table (${rows} ${rows === 1 ? 'row' : 'rows'}: logins in progress will start again)`;
}

/**
 * Apply what is missing; returns the versions applied by this call. Everything happens in one
 * transaction holding a transaction-level advisory lock: instances starting together queue on
 * the lock, the later ones find nothing left to do, and the lock is released by the COMMIT on
 * the connection that took it, whatever pooler (PgBouncer in transaction mode included) sits
 * in between. A failed migration rolls back all of this call's work.
 */
export async function runMigrations(
  query: Query,
  migrations = loadMigrations(),
  report: MigrationReport = {},
): Promise<number[]> {
  await query('BEGIN');
  try {
    await query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
    await query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await query('SELECT version FROM schema_migrations')).map((r) => Number(r.version)),
    );
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      if (migration.version === 1) {
        const rows = await originalTableRows(query);
        if (rows !== undefined) report.droppingOriginalTable?.(rows);
      }
      try {
        await query(migration.sql);
      } catch (err) {
        throw new Error(`migration ${migration.name} failed: ${(err as Error).message}`, { cause: err });
      }
      await query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await query('COMMIT');
    return applied;
  } catch (err) {
    await query('ROLLBACK').catch(() => {});
    throw err;
  }
}
