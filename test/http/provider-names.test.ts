/**
 * The pages an app with `UPSTREAM=oauth` serves name the provider, the client and the command
 * from its settings (`OAUTH_PROVIDER_NAME`, `OAUTH_CLIENT_NAME`, `OAUTH_LOGIN_COMMAND`), in every
 * language, and never Postiz: code entry, the confirmation page, the way on to the provider,
 * an ending and an error. The provider's endpoints are set, so nothing is discovered; nothing in
 * these walks reaches it.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { build } from '../../harness/build.js';
import { enterCode, InjectBrowser, pressOnConfirmation, startFlow } from '../../harness/inject-browser.js';
import { escapeHtml } from '../../src/views/html.js';
import { translator } from '../../src/views/i18n/index.js';
import { pageProfile } from '../../src/views/profile.js';

const LANGUAGES = ['en', 'fr', 'de', 'es', 'pt'];
const AUTHORIZE = 'http://127.0.0.1:9/authorize';
const OAUTH = {
  UPSTREAM: 'oauth',
  OAUTH_AUTHORIZATION_ENDPOINT: AUTHORIZE,
  OAUTH_TOKEN_ENDPOINT: 'http://127.0.0.1:9/token',
  OAUTH_CLIENT_ID: 'cli-auth',
  OAUTH_CLIENT_SECRET: 'cli-auth-secret',
};
const NAMES = {
  OAUTH_PROVIDER_NAME: 'Example',
  OAUTH_CLIENT_NAME: 'Example CLI',
  OAUTH_LOGIN_COMMAND: 'example login',
};

/** An app on the generic profile with `env`, and the profile its pages are worded for. */
async function oauthApp(t: TestContext, env: Record<string, string>) {
  const built = await build(t, { env: { ...OAUTH, ...env } });
  assert.equal(built.upstream.id, 'oauth');
  return { ...built, profile: pageProfile(built.upstream) };
}

/** A device's flow up to its confirmation page, in a browser that reads `lang`. */
async function toConfirmation(app: Awaited<ReturnType<typeof oauthApp>>['app'], lang: string) {
  const started = await startFlow(app, { 'user-agent': 'node' });
  const browser = new InjectBrowser(app, 'http://localhost:3111', { 'accept-language': lang });
  const entry = await browser.get('/device/verify');
  assert.equal(entry.status, 200);
  const confirmation = await enterCode(browser, started.user_code);
  assert.equal(confirmation.status, 200, confirmation.body);
  return { started, browser, entry, confirmation };
}

test('entry, confirmation, the way on and an ending name Example, Example CLI and example login, in every language', async (t) => {
  const { app, profile } = await oauthApp(t, NAMES);
  assert.deepEqual(profile.names, { provider: 'Example', client: 'Example CLI', command: 'example login' });
  for (const lang of LANGUAGES) {
    const say = translator(lang, profile);
    const { browser, entry, confirmation } = await toConfirmation(app, lang);
    assert.ok(
      entry.body.includes(`<h1>${escapeHtml(say('entry.heading'))}</h1>`),
      `${lang}: ${say('entry.heading')}`,
    );
    assert.ok(entry.body.includes('<span class="brand-name">Example CLI</span>'), lang);
    assert.ok(say('entry.heading').includes('Example CLI'), lang);
    assert.ok(
      confirmation.body.includes(
        `value="confirm" class="primary">${escapeHtml(say('confirm.continue'))}</button>`,
      ),
      lang,
    );
    assert.ok(say('confirm.continue').includes('Example'), lang);
    assert.ok(confirmation.body.includes(escapeHtml(say('confirm.lead'))), lang);
    assert.ok(
      confirmation.body.includes(escapeHtml(say('device.node'))),
      `${lang}: what the device says it is`,
    );
    const cancelled = await pressOnConfirmation(browser, confirmation, 'deny');
    assert.equal(cancelled.status, 200);
    assert.ok(cancelled.body.includes('<code>example login</code>'), lang);
    for (const [page, body] of Object.entries({ entry, confirmation, cancelled }))
      assert.doesNotMatch(body.body, /postiz/i, `${lang} ${page}`);
  }

  const { browser, confirmation } = await toConfirmation(app, 'en');
  const onward = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.equal(onward.status, 303);
  assert.ok(onward.location?.startsWith(`${AUTHORIZE}?`), onward.location);
  assert.equal(new URL(onward.location!).searchParams.get('client_id'), 'cli-auth');
  assert.match(
    String(confirmation.headers['content-security-policy']),
    /form-action 'self' http:\/\/127\.0\.0\.1:9/,
  );
});

test('an expired code: the error page says to run the command again, as code', async (t) => {
  const { app, clock } = await oauthApp(t, NAMES);
  const started = await startFlow(app, { 'user-agent': 'node' });
  clock.advance((started.expires_in + 1) * 1000);
  const expired = await enterCode(new InjectBrowser(app), started.user_code);
  assert.ok(expired.body.includes('<code>example login</code>'), expired.body);
  assert.doesNotMatch(expired.body, /postiz/i);
});

test('without OAUTH_LOGIN_COMMAND the pages say to start a new login from the terminal, with no code span', async (t) => {
  const { OAUTH_LOGIN_COMMAND: _, ...withoutCommand } = NAMES;
  const { app, profile } = await oauthApp(t, withoutCommand);
  assert.equal(profile.names.command, undefined);
  for (const lang of LANGUAGES) {
    const { browser, confirmation } = await toConfirmation(app, lang);
    const cancelled = await pressOnConfirmation(browser, confirmation, 'deny');
    assert.ok(cancelled.body.includes(escapeHtml(translator(lang, profile)('done.cancelled.body'))), lang);
    assert.ok(!cancelled.body.includes('<code>'), lang);
    assert.doesNotMatch(cancelled.body, /\{command\}|postiz/i, lang);
  }
  assert.match(
    translator('en', profile)('done.cancelled.body'),
    /To try again, start a new login from your terminal\.$/,
  );
});

test("unnamed, the provider is its authorization endpoint's host and the client is CLI", async (t) => {
  const { app } = await oauthApp(t, {});
  const { entry, confirmation } = await toConfirmation(app, 'en');
  assert.ok(entry.body.includes('<h1>Connect CLI</h1>'), entry.body);
  assert.ok(confirmation.body.includes('>Continue to 127.0.0.1:9</button>'), confirmation.body);
});

test('a provider name with markup in it is shown as text', async (t) => {
  const { app } = await oauthApp(t, { ...NAMES, OAUTH_PROVIDER_NAME: '<b>x</b>' });
  const { entry, confirmation } = await toConfirmation(app, 'en');
  for (const page of [entry, confirmation]) assert.ok(!page.body.includes('<b>'), page.body);
  assert.ok(confirmation.body.includes('>Continue to &lt;b&gt;x&lt;/b&gt;</button>'), confirmation.body);
  assert.ok(entry.body.includes('This page logs Example CLI in to your &lt;b&gt;x&lt;/b&gt; account.'));
});
