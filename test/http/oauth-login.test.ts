/**
 * A login through the generic profile (`UPSTREAM=oauth`) in process, over `app.inject`, with a
 * person at a real authorization server (`oidc-provider`, harness/oidc-provider.ts) over HTTP:
 * what the device receives, what the trail records, and what an operator reads when the
 * provider refuses this server's credentials.
 */
import assert from 'node:assert/strict';
import { after, before, type TestContext, test } from 'node:test';
import { build } from '../../harness/build.js';
import {
  enterCode,
  InjectBrowser,
  pathOf,
  pressOnConfirmation,
  rfcPoll,
  startFlow,
} from '../../harness/inject-browser.js';
import { captureLog } from '../../harness/observe.js';
import {
  authorizeAtProvider,
  OIDC_ACCOUNTS,
  type OidcProvider,
  oauthSettings,
  startOidcProvider,
} from '../../harness/oidc-provider.js';

const SERVER_URL = 'http://localhost:3111';
const ADA = OIDC_ACCOUNTS[0]!;

let provider: OidcProvider;
before(async () => {
  provider = await startOidcProvider({ redirectUri: `${SERVER_URL}/device/callback` });
});
after(() => provider?.stop());

/** An app bridging to the provider, a device's flow, and a person who confirms and logs in there as `login`: the callback's page. */
async function loginAt(t: TestContext, env: Record<string, string> = {}, login = ADA.id) {
  const { logger, lines, raw } = captureLog();
  const built = await build(t, { logger, env: { SERVER_URL, ...oauthSettings(provider), ...env } });
  const flow = await startFlow(built.app);
  const browser = new InjectBrowser(built.app);
  const confirmation = await enterCode(browser, flow.user_code);
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.ok(redirect.location?.startsWith(`${provider.issuer}/auth?`), redirect.location);
  const callback = await authorizeAtProvider(redirect.location!, login);
  const page = await browser.get(pathOf(callback));
  built.clock.advance(built.config.pollIntervalSeconds * 1000);
  return { built, flow, page, lines, raw };
}

test('the device receives the provider’s token fields, and the trail names the account by its sub', async (t) => {
  const { built, flow, page, raw } = await loginAt(t);
  assert.equal(page.status, 200, page.body.slice(0, 500));
  const polled = await rfcPoll(built.app, flow.device_code);
  assert.equal(polled.status, 200, JSON.stringify(polled.json));
  assert.deepEqual(Object.keys(polled.json).sort(), [
    'access_token',
    'expires_in',
    'refresh_token',
    'scope',
    'token_type',
  ]);
  assert.equal((await provider.userinfo(String(polled.json.access_token))).body.sub, ADA.id);
  const approved = raw.map((line) => JSON.parse(line)).find((line) => line.event === 'flow.approved');
  assert.equal(approved?.account, ADA.id);
  for (const secret of [
    polled.json.access_token,
    polled.json.refresh_token,
    provider.clients.basic.clientSecret,
  ])
    assert.ok(!raw.join('').includes(String(secret)), 'the log holds a token or the client secret');
});

test("a wrong client secret: the page says so, and the operator's log line names this profile's settings, not Postiz's", async (t) => {
  const { page, lines } = await loginAt(t, { OAUTH_CLIENT_SECRET: 'not-the-secret' });
  assert.equal(page.status, 502);
  const failed = lines.find((line) => line.event === 'flow.failed');
  assert.ok(failed, 'the failure is logged');
  assert.equal(failed.reason, 'misconfigured');
  assert.equal(failed.level, 50, 'as an error: an operator must act');
  assert.match(String(failed.msg), /OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET/);
  assert.doesNotMatch(String(failed.msg), /POSTIZ|Postiz/);
  assert.ok(!JSON.stringify(lines).includes('not-the-secret'), 'the secret is never logged');
});

test('/ready reports the provider under oauth: reachable with the right credentials, misconfigured with a wrong secret', async (t) => {
  for (const [secret, expected] of [
    [provider.clients.basic.clientSecret, 'reachable'],
    ['not-the-secret', 'misconfigured'],
  ] as const) {
    const built = await build(t, {
      env: { SERVER_URL, ...oauthSettings(provider), OAUTH_CLIENT_SECRET: secret },
    });
    await built.probe!.check();
    await built.credentials.check();
    const ready = await built.app.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().oauth, expected, ready.body);
  }
});
