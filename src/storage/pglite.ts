/** The embedded driver: PGlite, PostgreSQL compiled to WASM, in this process. */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Db, Row } from './sql-store.js';

/** Open (or create) the embedded database in `dataDir`, or in memory when it is `memory`. */
export async function pgliteDb(dataDir: string): Promise<Db & { pglite: PGlite }> {
  const inMemory = dataDir === 'memory' || dataDir === 'memory://';
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(inMemory ? undefined : dataDir);

  const query = async (sql: string, params?: unknown[]): Promise<Row[]> => {
    if (params === undefined || params.length === 0) {
      // exec runs several statements (migrations); query would refuse them.
      const results = await db.exec(sql);
      return (results.at(-1)?.rows ?? []) as Row[];
    }
    return (await db.query<Row>(sql, params)).rows;
  };

  return {
    kind: 'pglite',
    pglite: db,
    query,
    // PGlite is one connection: every query already runs on the same session.
    session: (fn) => fn(query),
    // In-process: no connection to lose, so no resets.
    listen: async (channel, handlers) => db.listen(channel, (payload) => handlers.onNotify(payload)),
    close: () => db.close(),
  };
}
