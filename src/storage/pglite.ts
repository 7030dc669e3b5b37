/** The embedded driver: PGlite, PostgreSQL compiled to WASM, in this process. */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Db, Row } from './sql-store.js';

/**
 * PostgreSQL's default 128 MB of shared buffers is set up (and so touched) at every start:
 * inside WASM that is about half of a reopen's 1.2 s and 130 MB of resident memory. This
 * database holds live flows only (a few MB for tens of thousands), and what falls out of the
 * buffers is still in the operating system's file cache. 16 MB reopens in about 0.65 s with
 * 160 MB resident (docs/performance.md).
 */
const START_PARAMS = ['-c', 'shared_buffers=16MB'];

/** Open (or create) the embedded database in `dataDir`, or in memory when it is `memory`. */
export async function pgliteDb(dataDir: string): Promise<Db & { pglite: PGlite }> {
  const inMemory = dataDir === 'memory' || dataDir === 'memory://';
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(inMemory ? undefined : dataDir, {
    startParams: [...PGlite.defaultStartParams, ...START_PARAMS],
  });

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
