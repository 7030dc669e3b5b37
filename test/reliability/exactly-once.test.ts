/**
 * Exactly once, in the terms the CLI sees (docs/security.md, "Token once"): a token whose answer
 * may not have reached its client can be collected again by the same device code for a short
 * grace (`REDELIVERY_GRACE_MS`), and by no one else; a poll that arrives while another poll of
 * the same device code is being answered never gets `invalid_grant`, which ends the postiz CLI's
 * login. Across two instances sharing one database, on both stores.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { build, manualClock, storesToShare } from '../../harness/build.js';
import { holdingClaims } from '../../harness/held-claims.js';
import { pathOf, poll, rfcPoll, startFlow, walkToCallback } from '../../harness/inject-browser.js';
import { metric } from '../../harness/observe.js';
import { usePostgres, waitFor } from '../../harness/postgres.js';
import { hashSecret } from '../../src/device-flow/codes.js';
import { REDELIVERY_GRACE_MS } from '../../src/device-flow/poller.js';
import type { Store } from '../../src/storage/store.js';

const cluster = await usePostgres();
const stores = storesToShare(cluster);

/**
 * Two instances on `store` and a flow approved through A, whose first poll A has claimed and is
 * answering (held until `holding.release()`): the moment a client's retry may reach B.
 */
async function firstPollHeld(t: TestContext, store: Store) {
  const clock = manualClock();
  const holding = holdingClaims(store);
  const a = await build(t, { store: holding.store, clock });
  const b = await build(t, { store, clock, standIn: a.standIn });
  const walked = await walkToCallback(a.app);
  assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
  const deviceCode = walked.started.device_code;
  clock.advance(5000);
  const first = poll(a.app, deviceCode);
  await holding.claimed;
  return { a, b, clock, holding, deviceCode, first };
}

for (const backend of stores) {
  test(`a token whose answer may not have reached its CLI is collected again by the same device code on another instance, within the grace, and by no one else (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const clock = manualClock();
    const a = await build(t, { store, clock });
    const b = await build(t, { store, clock, standIn: a.standIn });
    const walked = await walkToCallback(a.app);
    assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
    const deviceCode = walked.started.device_code;
    clock.advance(5000);
    const first = await poll(a.app, deviceCode);
    assert.equal(first.status, 200, first.body);
    // The answer was written, but the connection was reset before the CLI read it: it polls
    // again, an interval later, and reaches the other instance.
    clock.advance(5000);
    const again = await poll(b.app, deviceCode);
    assert.equal(again.status, 200, again.body);
    assert.equal(again.json.access_token, first.json.access_token, 'the same token');
    assert.equal(again.json.organization_id, first.json.organization_id);
    // Another device code gets nothing of it.
    const other = await startFlow(b.app);
    assert.equal((await poll(b.app, other.device_code)).json.error, 'authorization_pending');
    // Past the grace, the device code is spent.
    clock.advance(REDELIVERY_GRACE_MS);
    const late = await poll(a.app, deviceCode);
    assert.equal(late.json.error, 'invalid_grant', late.body);
  });

  test(`a poll that arrives while another poll of the same device code is being answered gets the token too, never invalid_grant (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    for (const shape of ['json', 'form'] as const) {
      const { b, holding, deviceCode, first } = await firstPollHeld(t, store);
      // Instance A has claimed the token and is answering; the client's retry reaches instance B.
      const during = shape === 'json' ? await poll(b.app, deviceCode) : await rfcPoll(b.app, deviceCode);
      assert.notEqual(during.json.error, 'invalid_grant', `${shape}: ${during.body}`);
      assert.equal(during.status, 200, `${shape}: ${during.body}`);
      holding.release();
      const answered = await first;
      assert.equal(answered.status, 200, answered.body);
      assert.equal(answered.json.access_token, during.json.access_token, shape);
    }
  });

  test(`the second poll's answer written, the first's lost: the login stays delivered, on the record as such (${backend.name})`, {
    skip: backend.skip,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const { a, b, clock, holding, deviceCode, first } = await firstPollHeld(t, store);
    const during = await poll(b.app, deviceCode);
    assert.equal(during.status, 200, during.body);
    // B's answer was written: the login is recorded delivered while A's is still out…
    await waitFor(async () =>
      (await store.loginEvents({ limit: 10 })).some((e) => e.outcome === 'delivered'),
    );
    // …so A's answer, lost (its connection reset), gives nothing back for a poll that never comes.
    assert.equal(await store.giveBack(hashSecret(deviceCode)), false);
    holding.release();
    await first;
    const finished = 'postiz_cli_auth_flows_finished_total{outcome="delivered"}';
    await waitFor(async () => (await metric(a.app, finished)) + (await metric(b.app, finished)) >= 1);
    // A's answer was written too, in the end: still one login delivered, counted once.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await metric(a.app, finished)) + (await metric(b.app, finished)), 1);
    clock.advance(REDELIVERY_GRACE_MS + 1000);
    await b.flows.purge();
    assert.deepEqual(
      (await store.loginEvents({ limit: 10 })).map((e) => [e.outcome, e.reason]),
      [['delivered', null]],
    );
  });
}
