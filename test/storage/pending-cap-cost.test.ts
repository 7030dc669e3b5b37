/**
 * What making room at a full `MAX_PENDING_FLOWS` costs the database, as the number of live
 * flows grows: the blocks its statement touches, read from `EXPLAIN (ANALYZE, BUFFERS)` of the
 * statement `Store.makeRoom` sends (run in a transaction that is rolled back, then the statement
 * runs for real). Work, not time: the same on a busy machine as on a quiet one. On both stores.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sharedPglite } from '../../harness/build.js';
import { usePostgres } from '../../harness/postgres.js';
import type { Db, Row } from '../../src/storage/db.js';
import { postgresDb } from '../../src/storage/postgres.js';
import { SqlStore } from '../../src/storage/sql-store.js';

const cluster = await usePostgres();

/** Blocks a plan touched (shared hits and reads, of the top node and of the planning). */
function blocksOf(plan: unknown): number {
  const [explained] = plan as [{ Plan: Record<string, number>; Planning?: Record<string, number> }];
  const node = explained.Plan;
  const planning = explained.Planning ?? {};
  return (
    (node['Shared Hit Blocks'] ?? 0) +
    (node['Shared Read Blocks'] ?? 0) +
    (planning['Shared Hit Blocks'] ?? 0) +
    (planning['Shared Read Blocks'] ?? 0)
  );
}

/** `db`, whose next query is also explained (with ANALYZE, rolled back) before it runs. */
function explaining(db: Db): { db: Db; explainNext: () => Promise<number> } {
  let waiting: ((blocks: number) => void) | undefined;
  const proxy: Db = {
    kind: db.kind,
    async query(sql: string, params?: unknown[]): Promise<Row[]> {
      const report = waiting;
      waiting = undefined;
      if (report) {
        const plan = await db.session(async (q) => {
          await q('BEGIN');
          try {
            const [row] = await q(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
            return row!['QUERY PLAN'];
          } finally {
            await q('ROLLBACK');
          }
        });
        report(blocksOf(typeof plan === 'string' ? JSON.parse(plan) : plan));
      }
      return db.query(sql, params);
    },
    session: (fn) => db.session(fn),
    listen: (channel, handlers) => db.listen(channel, handlers),
    close: () => db.close(),
  };
  return {
    db: proxy,
    explainNext: () =>
      new Promise<number>((resolve) => {
        waiting = resolve;
      }),
  };
}

/** Fill the flows table with `count` live pending flows held 33 to a network, as hoarders would. */
async function fill(db: Db, count: number, now: Date): Promise<void> {
  await db.query('DELETE FROM device_requests');
  await db.query(
    `INSERT INTO device_requests (device_code_hash, flow_id, user_code_hash, public_key, client_ip,
       user_agent, interval_seconds, created_at, expires_at, holder)
     SELECT sha256(('d' || i)::bytea), 'f' || i, sha256(('u' || i)::bytea), '\\x00'::bytea, '10.0.0.1',
       NULL, 5, $1::timestamptz + i * interval '1 millisecond', $1::timestamptz + interval '900 seconds',
       '10.' || (i / 33 / 256) || '.' || ((i / 33) % 256) || '.1'
     FROM generate_series(1, $2::int) AS i`,
    [now, count],
  );
  await db.query('ANALYZE device_requests');
}

const backends = [
  { name: 'PGlite', skip: false as const, db: async () => (await sharedPglite()) as unknown as { db: Db } },
  {
    name: 'PostgreSQL',
    skip: cluster ? (false as const) : 'no PostgreSQL available',
    db: async () => {
      const store = new SqlStore(postgresDb({ connectionString: await cluster!.createDatabase(), max: 2 }));
      await store.migrate();
      return store as unknown as { db: Db };
    },
  },
];

for (const backend of backends) {
  test(`making room at a full cap touches about as many blocks with 50,000 live flows as with 1,000 (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { db } = await backend.db();
    const { db: watched, explainNext } = explaining(db);
    const store = new SqlStore(watched);
    t.after(async () => {
      await db.query('DELETE FROM device_requests');
      if (db.kind === 'postgres') await db.close();
    });
    const now = new Date(Date.now() - 60_000);
    const blocks: number[] = [];
    for (const count of [1000, 50_000]) {
      await fill(db, count, now);
      const explained = explainNext();
      const room = await store.makeRoom(`192.0.2.${randomBytes(1)[0]}`, now, 10);
      assert.ok(room.displaced, `a hoarder's flow makes room (${count} flows)`);
      blocks.push(await explained);
    }
    t.diagnostic(`blocks touched: ${blocks.join(' → ')}`);
    assert.ok(
      blocks[1]! < 2 * blocks[0]!,
      `blocks touched: ${blocks[0]} with 1,000 flows, ${blocks[1]} with 50,000`,
    );
  });
}
