/**
 * `postiz-cli-auth logins`: the audit trail of the database the server uses (DATABASE_URL, else
 * the embedded one in PGLITE_DATA_DIR), newest first, as a table or JSON lines. It only reads:
 * it never migrates, and the embedded database, which serves one process, is read only while no
 * server holds it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { Organizations } from '../device-flow/organizations.js';
import { openStore } from '../storage/open.js';
import { DirectoryInUse } from '../storage/pglite.js';
import type { Store } from '../storage/store.js';
import { clientSecretOf } from '../upstream/index.js';
import type { LoginsQuery } from './options.js';
import { loginsJson, loginsTable } from './table.js';

/** A problem the command reports in one line (exit code 1). */
export class LoginsError extends Error {
  override name = 'LoginsError';
}

/** Why the embedded database cannot be read, before trying (PGlite would create an empty one). */
function embeddedProblem(dir: string): string | undefined {
  if (dir === 'memory' || dir === 'memory://') {
    return 'PGLITE_DATA_DIR is memory: that database lives and dies inside the server process, its audit trail with it. logins reads a database on disk (PGLITE_DATA_DIR) or PostgreSQL (DATABASE_URL)';
  }
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    return `PGLITE_DATA_DIR ${dir} holds no database: set PGLITE_DATA_DIR (or DATABASE_URL) as the server has it`;
  }
  return undefined;
}

/** Open the server's database for reading the trail, or say in one line why not. */
async function openForReading(config: Config): Promise<Store> {
  if (!config.databaseUrl) {
    const problem = embeddedProblem(config.pgliteDataDir);
    if (problem) throw new LoginsError(problem);
  }
  try {
    return await openStore(config);
  } catch (err) {
    if (err instanceof DirectoryInUse) {
      throw new LoginsError(
        `the embedded database in PGLITE_DATA_DIR ${err.dir} is in use by a running server (pid ${err.pid}). It serves one process at a time, so logins can read it only while no server runs: stop the server and run logins again, or use PostgreSQL (DATABASE_URL), which logins reads beside running servers`,
      );
    }
    throw err;
  }
}

/** PostgreSQL's "no such table": a database the server never migrated to the audit trail. */
const NO_TABLE = '42P01';

/** Print the events `query` selects to `out`; `note` is told when there are none. */
export async function runLogins(
  config: Config,
  query: LoginsQuery,
  out: (text: string) => void,
  note: (text: string) => void,
): Promise<void> {
  const organizations = new Organizations(clientSecretOf(config));
  const store = await openForReading(config);
  try {
    let events: Awaited<ReturnType<Store['loginEvents']>>;
    try {
      events = await store.loginEvents({
        ...(query.organization ? { orgKey: organizations.keyOf(query.organization) } : {}),
        ...(query.since ? { since: query.since } : {}),
        ...(query.outcome ? { outcome: query.outcome } : {}),
        limit: query.limit,
      });
    } catch (err) {
      if ((err as { code?: string }).code === NO_TABLE) {
        throw new LoginsError(
          'this database has no audit trail yet: start the server on it once (or run postiz-cli-auth migrate), then try again',
        );
      }
      throw err;
    }
    if (events.length === 0) {
      note('No logins recorded match.');
      return;
    }
    out(query.json ? loginsJson(events, organizations) : loginsTable(events, organizations));
  } finally {
    await store.close();
  }
}
