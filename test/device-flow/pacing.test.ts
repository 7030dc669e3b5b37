/**
 * The poll-interval rule is written once (src/device-flow/pacing.ts): `dueAt` for the answers
 * from memory, `dueAtSql` the same rule for the database's. Both give the same times, on both
 * stores, for intervals where the tolerance is its 2 s and where it is 40% of the interval.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storesToShare } from '../../harness/build.js';
import { usePostgres } from '../../harness/postgres.js';
import { dueAt, dueAtSql } from '../../src/device-flow/pacing.js';
import type { Db } from '../../src/storage/db.js';

const cluster = await usePostgres();

for (const backend of storesToShare(cluster)) {
  test(`dueAt and dueAtSql agree (${backend.name})`, { skip: backend.skip }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const { db } = store as unknown as { db: Db };
    const last = Date.parse('2026-12-06T12:00:00.000Z');
    for (const interval of [1, 2, 3, 5, 7, 10, 60]) {
      const [row] = await db.query(`SELECT ${dueAtSql('$1::timestamptz', '$2::int')} AS due`, [
        new Date(last),
        interval,
      ]);
      assert.equal(
        new Date(row!.due as string | Date).getTime(),
        dueAt(last, interval),
        `interval ${interval} s`,
      );
    }
    const [none] = await db.query(`SELECT ${dueAtSql('NULL::timestamptz', '$1::int')} AS due`, [5]);
    assert.equal(none!.due, null, 'no poll before: due at any time (dueAt: -Infinity)');
    assert.equal(dueAt(null, 5), Number.NEGATIVE_INFINITY);
  });
}
