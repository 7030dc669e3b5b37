/**
 * Versioned migrations: plain `.sql` files in `migrations/`, named `NNN_what.sql`, applied in
 * order, each in its own transaction, under a PostgreSQL advisory lock so that instances
 * starting together take turns instead of racing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from '../paths.js';
import type { Row } from './sql-store.js';

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

/** Apply what is missing, on one session; returns the versions applied by this call. */
export async function runMigrations(query: Query, migrations = loadMigrations()): Promise<number[]> {
  await query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
  try {
    await query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await query('SELECT version FROM schema_migrations')).map((r) => Number(r.version)),
    );
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await query('BEGIN');
      try {
        await query(migration.sql);
        await query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await query('COMMIT');
      } catch (err) {
        await query('ROLLBACK');
        throw new Error(`migration ${migration.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(migration.version);
    }
    return applied;
  } finally {
    await query('SELECT pg_advisory_unlock($1)', [LOCK_ID]);
  }
}
