/**
 * The generic profile (`UPSTREAM=oauth`, docs/providers.md) end to end against a real
 * authorization server nobody on this project wrote, panva's `oidc-provider`
 * (harness/oidc-provider.ts), on each store: a standard device client (`openid-client`) logs in
 * through this server's metadata while a person in headless Chromium enters the code, confirms,
 * logs in and consents on the provider's own pages; the client's tokens work at the provider,
 * refresh through this server, and a refresh token the provider has revoked is refused as the
 * client expects. A person who cancels at the provider's consent page ends the login with
 * `access_denied`. Screenshots go to test-results/screenshots/oauth-*.png.
 */
import assert from 'node:assert/strict';
import { after, before, type TestContext, test } from 'node:test';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { postgresStore, sharedPglite } from '../../harness/build.js';
import { OIDC_ACCOUNTS, startOAuthE2eServer } from '../../harness/oidc-provider.js';
import { usePostgres } from '../../harness/postgres.js';
import { defer } from '../../harness/processes.js';
import type { Store } from '../../src/storage/store.js';
import { browserSkipReason, launchBrowser, screenshot, watchProblems } from '../browser/support.js';

const TIMEOUT = 60_000;
const ADA = OIDC_ACCOUNTS[0]!;

const pg = await usePostgres();
const skipBrowser = browserSkipReason();

let browser: Browser | undefined;
before(async () => {
  if (!skipBrowser) browser = await launchBrowser();
});
after(() => browser?.close());

/**
 * A person in Chromium, from `verificationUriComplete`: the code (pre-filled) and Continue on this
 * server's pages, then the provider's login page (as `login`, any password) and its consent
 * page, where they press Continue or Cancel; the page they end on, back at this server.
 * Buttons are found by what they do (`value`), not by their words.
 */
async function personInBrowser(
  t: TestContext,
  server: { url: string; issuer: string },
  verificationUriComplete: string,
  options: { login: string; decision: 'approve' | 'deny'; shots: string },
): Promise<Page> {
  const context = await browser!.newContext({ locale: 'en-US', viewport: { width: 1024, height: 768 } });
  defer(t, () => context.close());
  // Nothing leaves the machine (the provider's pages import a web font).
  await context.route('**/*', (route) =>
    new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort(),
  );
  const problems = await watchProblems(context, server.url);
  const page = await context.newPage();
  const shot = (name: string) => screenshot(page, `oauth-${options.shots}-${name}`);

  await page.goto(verificationUriComplete);
  await page.locator('#user_code').waitFor();
  await shot('1-entry');
  await page.locator('button[value="lookup"]').click();
  await page.locator('button[value="confirm"]').waitFor();
  await shot('2-confirm');
  await page.locator('button[value="confirm"]').click();

  // The provider's own pages.
  await page.locator('input[name="login"]').waitFor();
  assert.ok(page.url().startsWith(`${server.issuer}/interaction/`), `at the provider's login: ${page.url()}`);
  await page.locator('input[name="login"]').fill(options.login);
  await page.locator('input[name="password"]').fill('any password');
  await shot('3-provider-login');
  await page.locator('button[type="submit"]').click();
  await page.locator('input[name="prompt"][value="consent"]').waitFor({ state: 'attached' });
  await shot('4-provider-consent');
  if (options.decision === 'approve') await page.locator('button[type="submit"]').click();
  else await page.locator('a[href$="/abort"]').click();

  await page.waitForURL(`${server.url}/device/callback?**`);
  await page.locator('main h1').waitFor();
  await shot('5-callback');
  assert.deepEqual(problems.list, [], 'console errors or CSP violations on our pages');
  return page;
}

/** What openid-client discovers from this server's RFC 8414 metadata, as a public client. */
function discover(url: string): Promise<client.Configuration> {
  return client.discovery(new URL(url), 'example-cli', undefined, client.None(), {
    algorithm: 'oauth2',
    execute: [client.allowInsecureRequests],
  });
}

/** A login, two refreshes through this server, and a refresh with a revoked refresh token. */
async function loginAndRefresh(t: TestContext, store: Store, storeName: string): Promise<void> {
  const { url, provider } = await startOAuthE2eServer(t, store, { POLL_INTERVAL_SECONDS: '1' });
  const configuration = await discover(url);
  assert.ok(configuration.serverMetadata().grant_types_supported?.includes('refresh_token'));

  const response = await client.initiateDeviceAuthorization(configuration, {});
  // The device polls while the person approves, as a real one does.
  const polled = client.pollDeviceAuthorizationGrant(configuration, response);
  polled.catch(() => {});
  const page = await personInBrowser(
    t,
    { url, issuer: provider.issuer },
    response.verification_uri_complete!,
    {
      login: ADA.id,
      decision: 'approve',
      shots: storeName,
    },
  );
  assert.equal(await page.locator('.status-ok').count(), 1, 'the page says the login was approved');

  const tokens = await polled;
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(typeof tokens.expires_in === 'number' && tokens.expires_in > 3500 && tokens.expires_in <= 3600);
  assert.ok(tokens.refresh_token, 'a refresh token (offline_access)');
  assert.deepEqual(tokens.scope?.split(' ').sort(), ['email', 'offline_access', 'openid', 'profile']);
  // The provider's ID token is this server's (docs/providers.md): had it been passed on,
  // openid-client would have refused the answer for its issuer and audience.
  assert.equal(tokens.id_token, undefined);
  const me = await provider.userinfo(tokens.access_token);
  assert.equal(me.status, 200);
  assert.equal(me.body.sub, ADA.id);
  assert.equal(me.body.email, ADA.email);

  // Refreshed through this server, which adds its client's credentials.
  const refreshed = await client.refreshTokenGrant(configuration, tokens.refresh_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.equal((await provider.userinfo(refreshed.access_token)).body.sub, ADA.id);
  assert.equal(refreshed.token_type.toLowerCase(), 'bearer');

  // The person revokes the login at the provider: the refresh token is refused, as RFC 6749 §5.2 says.
  await provider.revoke(refreshed.refresh_token ?? tokens.refresh_token, 'refresh_token');
  await assert.rejects(client.refreshTokenGrant(configuration, tokens.refresh_token), (err: unknown) => {
    assert.ok(err instanceof client.ResponseBodyError, String(err));
    assert.equal(err.error, 'invalid_grant');
    assert.equal(err.status, 400);
    return true;
  });
  assert.equal((await provider.userinfo(refreshed.access_token)).status, 401, 'the grant is revoked whole');
}

/** A person who cancels at the provider's consent page: the device is told access_denied. */
async function deniedAtProvider(t: TestContext, store: Store, storeName: string): Promise<void> {
  const { url, provider } = await startOAuthE2eServer(t, store, { POLL_INTERVAL_SECONDS: '1' });
  const configuration = await discover(url);
  const response = await client.initiateDeviceAuthorization(configuration, {});
  const polled = client.pollDeviceAuthorizationGrant(configuration, response);
  polled.catch(() => {});
  const page = await personInBrowser(
    t,
    { url, issuer: provider.issuer },
    response.verification_uri_complete!,
    {
      login: ADA.id,
      decision: 'deny',
      shots: `${storeName}-denied`,
    },
  );
  assert.equal(await page.locator('.status-ok').count(), 0, 'not approved');
  await assert.rejects(polled, { error: 'access_denied' });
  assert.deepEqual(provider.live('AccessToken'), [], 'the provider issued no token');
}

const skip = skipBrowser ?? false;

test('oidc-provider: a device logs in, refreshes, and is refused after revocation, on PGlite', {
  timeout: TIMEOUT,
  skip,
}, async (t) => {
  await loginAndRefresh(t, await sharedPglite(), 'pglite');
});

test('oidc-provider: a person who cancels at its consent page ends the login with access_denied, on PGlite', {
  timeout: TIMEOUT,
  skip,
}, async (t) => {
  await deniedAtProvider(t, await sharedPglite(), 'pglite');
});

test('oidc-provider: a device logs in, refreshes, and is refused after revocation, on PostgreSQL', {
  timeout: TIMEOUT,
  skip: skip || (!pg && 'no PostgreSQL'),
}, async (t) => {
  const store = await postgresStore(await pg!.createDatabase());
  defer(t, () => store.close());
  await loginAndRefresh(t, store, 'postgres');
});

test('oidc-provider: a person who cancels at its consent page ends the login with access_denied, on PostgreSQL', {
  timeout: TIMEOUT,
  skip: skip || (!pg && 'no PostgreSQL'),
}, async (t) => {
  const store = await postgresStore(await pg!.createDatabase());
  defer(t, () => store.close());
  await deniedAtProvider(t, store, 'postgres');
});
