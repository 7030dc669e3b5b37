/**
 * The Postiz profile's `checkToken` (docs/postiz.md, "What the server asks Postiz, and why") against the
 * stand-in: a token Postiz takes is `working`; one of an organisation without a subscription is
 * `no_subscription`; another 401 or 403 is `refused`; a 5xx, a hang past the timeout, or a port
 * that refuses connections is `unchecked`, within the time asked, and never throws.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { StandIn } from '../../demo/stand-in/index.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET, testStandIn, UNPAID_ORG } from '../../harness/build.js';
import { freePort } from '../../harness/ports.js';
import { createPostizUpstream, readCheck } from '../../src/upstream/postiz/profile.js';
import type { Upstream } from '../../src/upstream/upstream.js';

/** A grant of `accessToken`, as the exchange makes it, for the check. */
const grant = (accessToken: string) => ({ accessToken, sealed: {}, account: {} });

let standIn: StandIn;
let client: Upstream;

before(async () => {
  standIn = testStandIn('http://localhost:3111');
  const apiUrl = await standIn.listen();
  client = createPostizUpstream({
    frontendUrl: apiUrl,
    apiUrl,
    clientId: TEST_CLIENT_ID,
    clientSecret: TEST_CLIENT_SECRET,
    timeoutMs: 2000,
  });
});
after(() => standIn.close());

/** A fresh token for `organization` (the selected one by default), through a real approval. */
async function token(organization?: string): Promise<string> {
  const back = await standIn.decide(
    `${standIn.url}/oauth/authorize?client_id=${TEST_CLIENT_ID}&response_type=code&state=s`,
    'approve',
    organization,
  );
  const exchanged = await client.exchangeCode({
    code: back.searchParams.get('code')!,
    codeVerifier: 'v',
    redirectUri: 'http://localhost:3111/device/callback',
  });
  return exchanged.accessToken;
}

test("a token Postiz takes is working, with its organisation's channels; the organisation chosen at the consent page is the one in the answer", async () => {
  assert.deepEqual(await client.checkToken(grant(await token()), 1000), {
    result: 'working',
    account: { channels: [{ name: "Test User's channel", platform: 'x', disabled: false }], channelCount: 1 },
  });
  const back = await standIn.decide(
    `${standIn.url}/oauth/authorize?client_id=${TEST_CLIENT_ID}&response_type=code&state=s`,
    'approve',
    UNPAID_ORG.id,
  );
  const exchanged = await client.exchangeCode({
    code: back.searchParams.get('code')!,
    codeVerifier: 'v',
    redirectUri: 'http://localhost:3111/device/callback',
  });
  assert.equal(exchanged.account.id, UNPAID_ORG.id);
});

test('a token of an organisation without a subscription is no_subscription, as Postiz answers 401 "No subscription found"', async () => {
  const unpaid = await token(UNPAID_ORG.id);
  assert.deepEqual(await client.checkToken(grant(unpaid), 1000), {
    result: 'refused',
    reason: 'no_subscription',
    status: 401,
  });
  const raw = await fetch(`${standIn.url}/public/v1/integrations`, { headers: { authorization: unpaid } });
  assert.equal(raw.status, 401);
  assert.deepEqual(await raw.json(), { msg: 'No subscription found' });
});

test('another refusal (a revoked token, a 403) is refused', async () => {
  const revoked = await token();
  await token(); // approving again revokes the earlier token
  assert.deepEqual(await client.checkToken(grant(revoked), 1000), {
    result: 'refused',
    reason: 'token_refused',
    status: 401,
  });
  standIn.failNextPublic('forbidden');
  assert.deepEqual(await client.checkToken(grant(await token()), 1000), {
    result: 'refused',
    reason: 'token_refused',
    status: 403,
  });
});

test('Postiz down, slow or unreachable: unchecked, within the time asked, never a throw', async () => {
  const fresh = await token();
  standIn.failNextPublic('server-error');
  assert.deepEqual(await client.checkToken(grant(fresh), 1000), { result: 'unchecked', detail: 'HTTP 500' });
  standIn.failNextPublic('hang');
  const begun = performance.now();
  const slow = await client.checkToken(grant(fresh), 300);
  assert.equal(slow.result, 'unchecked');
  assert.ok(performance.now() - begun < 2000, 'bounded by the timeout');
  const nowhereUrl = `http://127.0.0.1:${await freePort()}`;
  const nowhere = createPostizUpstream({
    frontendUrl: nowhereUrl,
    apiUrl: nowhereUrl,
    clientId: TEST_CLIENT_ID,
    clientSecret: TEST_CLIENT_SECRET,
    timeoutMs: 1000,
  });
  const refused = await nowhere.checkToken(grant(fresh), 1000);
  assert.equal(refused.result, 'unchecked');
  assert.match(refused.result === 'unchecked' ? refused.detail : '', /ECONNREFUSED/);
});

test('readCheck reads what the public API answers, and never echoes a body', () => {
  assert.deepEqual(
    readCheck(200, '{"connected":true}'),
    { result: 'working' },
    'not a list: channels unknown',
  );
  assert.deepEqual(readCheck(200, '[]'), { result: 'working', account: { channels: [], channelCount: 0 } });
  // Names are printable text, cut at 100 characters; more than ten channels are counted, ten kept.
  const many = [
    { name: 'Acme\u0007 on X', identifier: 'x', disabled: false },
    { name: 'Acme', identifier: 'linkedin-page', disabled: true },
    { name: 42, identifier: 'x' },
    ...Array.from({ length: 10 }, (_, i) => ({ name: `${'n'.repeat(120)}${i}`, identifier: 'bluesky' })),
  ];
  const read = readCheck(200, JSON.stringify(many));
  assert.equal(read.result, 'working');
  assert.equal(read.result === 'working' && read.account?.channelCount, 12);
  assert.deepEqual(read.result === 'working' && read.account?.channels?.slice(0, 3), [
    { name: 'Acme on X', platform: 'x', disabled: false },
    { name: 'Acme', platform: 'linkedin-page', disabled: true },
    { name: 'n'.repeat(100), platform: 'bluesky', disabled: false },
  ]);
  assert.equal(read.result === 'working' && read.account?.channels?.length, 10);
  assert.deepEqual(readCheck(401, '{"msg":"No subscription found"}'), {
    result: 'refused',
    reason: 'no_subscription',
    status: 401,
  });
  assert.deepEqual(readCheck(401, '{"msg":"Invalid OAuth token"}'), {
    result: 'refused',
    reason: 'token_refused',
    status: 401,
  });
  assert.deepEqual(readCheck(403, 'not json'), { result: 'refused', reason: 'token_refused', status: 403 });
  assert.deepEqual(readCheck(404, '<html>pos_secret</html>'), { result: 'unchecked', detail: 'HTTP 404' });
});
