/** Open the store the configuration asks for: PostgreSQL when DATABASE_URL is set, else PGlite. */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { postgresDb } from './postgres.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';

/** The configured store (not yet migrated). */
export async function openStore(
  config: Pick<Config, 'databaseUrl' | 'pgliteDataDir' | 'databasePoolSize'>,
  logger?: Logger,
): Promise<Store> {
  if (config.databaseUrl) {
    return new SqlStore(
      postgresDb({
        connectionString: config.databaseUrl,
        max: config.databasePoolSize,
        onError: (err) => logger?.warn({ err }, 'database connection lost; the pool will reconnect'),
      }),
    );
  }
  // Loaded only when used: PostgreSQL deployments never pay for the WASM build's import.
  const { pgliteDb } = await import('./pglite.js');
  return new SqlStore(await pgliteDb(config.pgliteDataDir));
}
