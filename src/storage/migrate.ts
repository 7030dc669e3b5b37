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

/**
 * Apply what is missing; returns the versions applied by this call. Everything happens in one
 * transaction holding a transaction-level advisory lock: instances starting together queue on
 * the lock, the later ones find nothing left to do, and the lock is released by the COMMIT on
 * the connection that took it, whatever pooler (PgBouncer in transaction mode included) sits
 * in between. A failed migration rolls back all of this call's work.
 */
export async function runMigrations(query: Query, migrations = loadMigrations()): Promise<number[]> {
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
