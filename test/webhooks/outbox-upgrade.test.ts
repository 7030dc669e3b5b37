/**
 * The upgrade that takes endpoints' URLs out of the webhook outbox (migrations/018): an event
 * an earlier version delivered to one of two endpoints, and failed at the other, keeps no
 * readable URL once migrated, and is then sent to both (at least once, the same webhook-id:
 * the keys are keyed with WEBHOOK_SECRET, which the migration does not know). On PGlite and on
 * PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { build, insertFlow, liveClock, testEnd } from '../../harness/build.js';
import { usePostgres, waitFor } from '../../harness/postgres.js';
import { newWebhookSecret, startReceiver } from '../../harness/webhook-receiver.js';
import { hashSecret, newDeviceCode, newToken, newUserCode } from '../../src/device-flow/codes.js';
import type { Db } from '../../src/storage/db.js';
import { loadMigrations, runMigrations } from '../../src/storage/migrate.js';
import { pgliteDb } from '../../src/storage/pglite.js';
import { postgresDb } from '../../src/storage/postgres.js';
import { SqlStore } from '../../src/storage/sql-store.js';

const cluster = await usePostgres();

const VERSION = 18;

const databases = [
  { name: 'PGlite', skip: false as const, open: () => pgliteDb('memory') },
  {
    name: 'PostgreSQL',
    skip: cluster ? (false as const) : 'no PostgreSQL available',
    open: async () => postgresDb({ connectionString: await cluster!.createDatabase(), max: 4 }),
  },
];

for (const database of databases) {
  test(`an outbox an earlier version wrote keeps no endpoint URL, and its pending event still reaches every endpoint, under its id (${database.name})`, {
    skip: database.skip,
    timeout: 60_000,
  }, async (t) => {
    const db: Db = await database.open();
    t.after(() => db.close());
    await db.session((query) =>
      runMigrations(
        query,
        loadMigrations().filter((m) => m.version < VERSION),
      ),
    );
    const store = new SqlStore(db);

    const secret = newWebhookSecret();
    const zap = await startReceiver(secret, '/hooks/catch/path-secret-7f3a');
    t.after(() => zap.close());
    const other = await startReceiver(secret);
    t.after(() => other.close());
    const zapUrl = new URL(zap.url);
    zapUrl.username = 'hookuser';
    zapUrl.password = 'hook-password';
    zapUrl.search = '?token=query-secret';
    const secrets = ['hookuser', 'hook-password', 'query-secret', 'path-secret'];

    // A cancelled login queued for webhooks, then what the earlier sender recorded after its
    // first attempt: the first endpoint's URL as configured, and the second's failure by path.
    const now = new Date();
    const deviceCode = newDeviceCode();
    const flowId = newToken(12);
    assert.ok(
      await insertFlow(store, {
        flowId,
        deviceCodeHash: hashSecret(deviceCode),
        userCodeHash: hashSecret(newUserCode()),
        publicKey: randomBytes(32),
        clientIp: '203.0.113.7',
        userAgent: 'postiz/2.1.0 (linux)',
        intervalSeconds: 5,
        createdAt: now,
        expiresAt: new Date(now.getTime() + 900_000),
        holder: '203.0.113.7',
      }),
    );
    assert.ok(await store.deny(flowId, 'cancelled', testEnd(now, true)));
    await db.query(
      `UPDATE webhook_outbox SET attempts = 1, delivered_to = ARRAY[$1], last_error = $2, next_attempt_at = $3`,
      [zapUrl.href, `${new URL(other.url).origin}/hooks: HTTP 503`, now],
    );
    const dump = async () =>
      (await db.query('SELECT row_to_json(o)::text AS raw FROM webhook_outbox o'))
        .map((r) => String(r.raw))
        .join();
    assert.ok((await dump()).includes('hook-password'), 'the earlier version recorded the URL');

    const applied = await store.migrate();
    assert.equal(applied[0], VERSION, 'the upgrade starts with it');
    const migrated = await dump();
    for (const part of secrets) assert.ok(!migrated.includes(part), `the outbox no longer holds ${part}`);
    const [row] = await db.query('SELECT last_error FROM webhook_outbox');
    assert.equal(
      row?.last_error,
      `${new URL(other.url).origin}: HTTP 503`,
      'the cause is kept, the path dropped',
    );

    const env = { WEBHOOK_URL: `${zapUrl.href},${other.url}`, WEBHOOK_SECRET: secret };
    const built = await build(t, {
      store,
      clock: liveClock(),
      env,
      keepStore: true,
      webhooks: { pollIntervalMs: 100 },
    });
    await waitFor(async () => (await store.countOutbox()).pending === 0, { timeoutMs: 10_000 });
    const [event] = await built.store.loginEvents({ limit: 1 });
    assert.deepEqual([...other.answered()], [event?.eventId], 'the endpoint that lacked the event has it');
    assert.deepEqual([...zap.answered()], [event?.eventId], 'the one that had it, again, under the same id');
    const done = await dump();
    for (const part of secrets) assert.ok(!done.includes(part), `the outbox never holds ${part} again`);
  });
}
