/** The PostgreSQL driver: a `pg` pool. Types are left as `pg` gives them (bytea → Buffer). */
import pg from 'pg';
import type { Db, Row } from './sql-store.js';

export interface PostgresOptions {
  connectionString: string;
  max?: number;
  /** Called when an idle connection dies (e.g. the server restarted); the pool replaces it. */
  onError?: (err: Error) => void;
}

/** A `Db` over a pool of connections to `connectionString`. */
export function postgresDb(options: PostgresOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    // Without this an idle client whose server went away emits an unhandled 'error' and kills the process.
    allowExitOnIdle: false,
  });
  pool.on('error', (err) => options.onError?.(err));

  const run = async (client: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<Row[]> => {
    const result = await client.query(sql, params as unknown[]);
    // A multi-statement text (migrations) yields one result per statement.
    return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
  };

  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    async session(fn) {
      const client = await pool.connect();
      try {
        return await fn((sql, params) => run(client, sql, params));
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
