/**
 * The pending view answers polls from memory, so a notification that never arrives
 * must not leave a changed flow "pending" for long. On PostgreSQL the periodic re-check finds
 * it; on PGlite every change is made and notified in this process, so there is none to miss
 * and the re-check asks the database nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { build, postgresStore } from '../../harness/build.js';
import { poll, startFlow } from '../../harness/inject-browser.js';
import { usePostgres } from '../../harness/postgres.js';
import { hashSecret } from '../../src/device-flow/codes.js';
import type { Store } from '../../src/storage/store.js';

const cluster = await usePostgres();

/** The error an RFC 8628 client's poll answers (a form with `grant_type`: it may get `slow_down`). */
async function rfcPollError(app: Parameters<typeof poll>[0], deviceCode: string): Promise<unknown> {
  const res = await app.inject({
    method: 'POST',
    url: '/device/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: deviceCode,
      client_id: 'cli',
    }).toString(),
  });
  return (res.json() as Record<string, unknown>).error;
}

/** The error a poll answers (the postiz CLI's JSON poll). */
async function pollError(app: Parameters<typeof poll>[0], deviceCode: string): Promise<unknown> {
  return (await poll(app, deviceCode)).json.error;
}

test('PostgreSQL: a denial whose notification was lost is found by the next re-check', {
  skip: cluster ? false : 'no PostgreSQL available',
}, async (t) => {
  const url = await cluster!.createDatabase();
  const store = await postgresStore(url);
  t.after(() => store.close());
  const { app, flows, clock } = await build(t, { store, env: { POLL_WAIT_SECONDS: '0' } });
  const { device_code: deviceCode } = await startFlow(app);
  assert.equal(await pollError(app, deviceCode), 'authorization_pending');

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
  const url = await cluster!.createDatabase();
  const store = await postgresStore(url);
  t.after(() => store.close());
  const { app, flows, clock } = await build(t, { store, env: { POLL_WAIT_SECONDS: '0' } });
  const { device_code: deviceCode, interval } = await startFlow(app);
  assert.equal(await rfcPollError(app, deviceCode), 'authorization_pending');

  // Another instance slowed this flow down (raiseInterval sends no notification).
  await store.raiseInterval(hashSecret(deviceCode), interval + 10, new Date(clock.now()));
  clock.advance(interval * 1000);
  assert.equal(await rfcPollError(app, deviceCode), 'authorization_pending', 'not yet known here');
  await flows.recheck();
  clock.advance(interval * 1000);
  assert.equal(
    await rfcPollError(app, deviceCode),
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
