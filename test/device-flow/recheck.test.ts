/**
 * The pending view answers polls from memory, so a notification that never arrives
 * must not leave a changed flow "pending" for long. On PostgreSQL the periodic re-check finds
 * it; on PGlite every change is made and notified in this process, so there is none to miss
 * and the re-check asks the database nothing.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import pg from 'pg';
import { build, postgresStore } from '../../harness/build.js';
import { poll, rfcPoll, startFlow } from '../../harness/inject-browser.js';
import { usePostgres } from '../../harness/postgres.js';
import { hashSecret } from '../../src/device-flow/codes.js';
import type { Store } from '../../src/storage/store.js';

const cluster = await usePostgres();

/** The error a poll answers: the postiz CLI's JSON poll, or an RFC 8628 client's form (which may get `slow_down`). */
async function pollError(app: Parameters<typeof poll>[0], deviceCode: string, client: 'cli' | 'rfc' = 'cli') {
  return (client === 'cli' ? await poll(app, deviceCode) : await rfcPoll(app, deviceCode)).json.error;
}

/** A flow started on a fresh PostgreSQL database, polled once (so this instance answers it from memory). */
async function cachedFlowOnPostgres(t: TestContext, client: 'cli' | 'rfc') {
  const url = await cluster!.createDatabase();
  const store = await postgresStore(url);
  t.after(() => store.close());
  const built = await build(t, { store, env: { POLL_WAIT_SECONDS: '0' } });
  const started = await startFlow(built.app);
  assert.equal(await pollError(built.app, started.device_code, client), 'authorization_pending');
  return { ...built, store, url, deviceCode: started.device_code, interval: started.interval };
}

test('PostgreSQL: a denial whose notification was lost is found by the next re-check', {
  skip: cluster ? false : 'no PostgreSQL available',
}, async (t) => {
  const { app, flows, clock, url, deviceCode } = await cachedFlowOnPostgres(t, 'cli');

  // Deny it with the triggers off (session_replication_role = replica): no NOTIFY is sent,
  // as if the listener had missed it.
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.after(() => admin.end());
  await admin.query('BEGIN');
  await admin.query('SET LOCAL session_replication_role = replica');
  const { rowCount } = await admin.query(
    "UPDATE device_requests SET status = 'denied', finished_at = now() WHERE status = 'pending'",
  );
  await admin.query('COMMIT');
  assert.equal(rowCount, 1);

  clock.advance(5_000);
  assert.equal(await pollError(app, deviceCode), 'authorization_pending', 'still answered from memory');
  await flows.recheck();
  clock.advance(5_000);
  assert.equal(await pollError(app, deviceCode), 'access_denied');
});

test('PostgreSQL: an interval another instance raised is adopted at the next re-check', {
  skip: cluster ? false : 'no PostgreSQL available',
}, async (t) => {
  const { app, flows, clock, store, deviceCode, interval } = await cachedFlowOnPostgres(t, 'rfc');

  // Another instance slowed this flow down (raiseInterval sends no notification).
  await store.raiseInterval(hashSecret(deviceCode), interval + 10, new Date(clock.now()));
  clock.advance(interval * 1000);
  assert.equal(await pollError(app, deviceCode, 'rfc'), 'authorization_pending', 'not yet known here');
  await flows.recheck();
  clock.advance(interval * 1000);
  assert.equal(
    await pollError(app, deviceCode, 'rfc'),
    'slow_down',
    'polled at the old interval after the re-check',
  );
});

test('PGlite: the re-check drops expired entries and asks the database nothing', async (t) => {
  const { app, flows, store, clock } = await build(t, { env: { POLL_WAIT_SECONDS: '0' } });
  const { device_code: deviceCode } = await startFlow(app);
  assert.equal(await pollError(app, deviceCode), 'authorization_pending');
  let asked = 0;
  const staleFlows = store.staleFlows.bind(store);
  (store as Store).staleFlows = (cached) => {
    asked++;
    return staleFlows(cached);
  };
  // The shared store's own method comes back from its prototype.
  t.after(() => delete (store as { staleFlows?: unknown }).staleFlows);
  await flows.recheck();
  assert.equal(asked, 0);
  clock.advance(16 * 60_000);
  await flows.recheck();
  assert.equal(asked, 0);
  assert.equal(await pollError(app, deviceCode), 'expired_token');
});
