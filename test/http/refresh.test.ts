/**
 * Refresh through the bridge (docs/providers.md, "What the device receives"), over HTTP through
 * `app.inject`, against a real authorization server (`oidc-provider`, harness/oidc-provider.ts):
 * `grant_type=refresh_token` at /device/token is forwarded with this server's client credentials
 * and answered as the provider answered; malformed requests are refused here; Postiz, which
 * issues no refresh tokens, refuses the grant; each address is held to RATE_LIMIT_REFRESHES,
 * also when its requests arrive at once; nothing of a refresh is stored, and its log line holds
 * no token; the metadata lists the grant only where it is taken.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, type TestContext, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { type Built, build, storesToShare } from '../../harness/build.js';
import { captureLog, metric } from '../../harness/observe.js';
import {
  loginThrough,
  OIDC_ACCOUNTS,
  type OidcProvider,
  oauthSettings,
  startOidcProvider,
} from '../../harness/oidc-provider.js';
import { usePostgres } from '../../harness/postgres.js';
import type { Db } from '../../src/storage/db.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SERVER_URL = 'http://localhost:3111';
const REDIRECT_URI = `${SERVER_URL}/device/callback`;

const pg = await usePostgres();
let provider: OidcProvider;
before(async () => {
  provider = await startOidcProvider({ redirectUri: REDIRECT_URI });
});
after(() => provider?.stop());

/** An app bridging to the provider (`UPSTREAM=oauth`), with `env` added. */
function bridge(t: TestContext, options: Omit<Parameters<typeof build>[1] & object, 'standIn'> = {}) {
  return build(t, {
    ...options,
    env: { SERVER_URL, ...oauthSettings(provider), ...options.env },
  });
}

/** The provider's token answer for a login of `account` through the app's own profile (its authorize URL, its exchange). */
async function login(built: Built, account = OIDC_ACCOUNTS[0]!.id): Promise<Record<string, unknown>> {
  return (await loginThrough(built.upstream, REDIRECT_URI, account)).grant.sealed;
}

/** POST /device/token with a form of `fields` (a string: sent as it is). */
function refresh(
  built: Built,
  fields: Record<string, string> | string,
  headers: Record<string, string> = FORM,
): Promise<LightMyRequestResponse> {
  return built.app.inject({
    method: 'POST',
    url: '/device/token',
    headers,
    payload: typeof fields === 'string' ? fields : new URLSearchParams(fields).toString(),
  });
}

/** Assert an OAuth error answer: its status, error code, JSON, and no caching. */
function assertError(res: LightMyRequestResponse, status: number, error: string): Record<string, unknown> {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.equal(res.headers['cache-control'], 'no-store');
  const body = res.json() as Record<string, unknown>;
  assert.equal(body.error, error, res.body);
  return body;
}

describe('the metadata', () => {
  test('lists refresh_token in grant_types_supported with UPSTREAM=oauth', async (t) => {
    const built = await bridge(t);
    const res = await built.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    assert.deepEqual(res.json().grant_types_supported, [
      'urn:ietf:params:oauth:grant-type:device_code',
      'refresh_token',
    ]);
  });

  test('lists only the device code with Postiz, which issues no refresh tokens', async (t) => {
    const built = await build(t);
    const res = await built.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    assert.deepEqual(res.json().grant_types_supported, ['urn:ietf:params:oauth:grant-type:device_code']);
  });

  test("/openapi.json describes each profile's token answer, and the refresh grant where it is taken", async (t) => {
    const tokenOf = async (built: Built) => {
      const doc = (await built.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const post = doc.paths['/device/token'].post;
      return {
        description: String(post.description),
        answer: post.responses['200'].content['application/json'].schema,
        body: Object.keys(post.requestBody.content['application/x-www-form-urlencoded'].schema.properties),
      };
    };
    const oauth = await tokenOf(await bridge(t));
    assert.deepEqual(oauth.answer.required, ['access_token', 'token_type']);
    assert.deepEqual(Object.keys(oauth.answer.properties).sort(), [
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    assert.match(oauth.description, /grant_type=refresh_token/);
    assert.ok(oauth.body.includes('refresh_token'), oauth.body.join());

    const postiz = await tokenOf(await build(t));
    assert.deepEqual(postiz.answer.required, ['access_token', 'token_type', 'api_url']);
    assert.ok('organization_id' in postiz.answer.properties);
    assert.doesNotMatch(postiz.description, /refresh/);
    assert.ok(!postiz.body.includes('refresh_token'));
  });
});

describe("a provider whose metadata's grant_types_supported leaves out refresh_token", () => {
  /** Metadata at its own URL naming the provider's endpoints, and only the code grant; its URL (the issuer). */
  async function codeOnlyIssuer(t: TestContext): Promise<string> {
    const server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          issuer: url,
          authorization_endpoint: `${provider.issuer}/auth`,
          token_endpoint: `${provider.issuer}/token`,
          grant_types_supported: ['authorization_code'],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return url;
  }

  test('is not sent refreshes: neither the metadata nor /openapi.json lists the grant, and it is unsupported_grant_type', async (t) => {
    const built = await bridge(t, { env: { OAUTH_ISSUER: await codeOnlyIssuer(t) } });
    assert.equal(built.upstream.refresh, undefined);
    const metadata = await built.app.inject({
      method: 'GET',
      url: '/.well-known/oauth-authorization-server',
    });
    assert.deepEqual(metadata.json().grant_types_supported, ['urn:ietf:params:oauth:grant-type:device_code']);
    const doc = (await built.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const post = doc.paths['/device/token'].post;
    assert.doesNotMatch(String(post.description), /refresh/);
    assert.ok(!('refresh_token' in post.responses['200'].content['application/json'].schema.properties));
    assertError(
      await refresh(built, { grant_type: 'refresh_token', refresh_token: 'a-refresh-token' }),
      400,
      'unsupported_grant_type',
    );
  });
});

describe('a refresh', () => {
  test('is counted in the provider request metrics, as docs/deploy.md says', async (t) => {
    const built = await bridge(t);
    const tokens = await login(built);
    const before = await metric(built.app, 'postiz_cli_auth_upstream_requests_total{status="200"}');
    const res = await refresh(built, {
      grant_type: 'refresh_token',
      refresh_token: String(tokens.refresh_token),
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(
      await metric(built.app, 'postiz_cli_auth_upstream_requests_total{status="200"}'),
      before + 1,
    );
  });

  test("is the provider's answer: a new access token that works, and the fields of RFC 6749 §5.1", async (t) => {
    const built = await bridge(t);
    const tokens = await login(built);
    const res = await refresh(built, {
      grant_type: 'refresh_token',
      refresh_token: String(tokens.refresh_token),
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = res.json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    assert.notEqual(body.access_token, tokens.access_token);
    assert.equal(body.token_type, 'Bearer');
    assert.equal((await provider.userinfo(String(body.access_token))).body.sub, OIDC_ACCOUNTS[0]!.id);
  });

  test('with a narrower scope is forwarded with it', async (t) => {
    const built = await bridge(t);
    const tokens = await login(built);
    const res = await refresh(built, {
      grant_type: 'refresh_token',
      refresh_token: String(tokens.refresh_token),
      scope: 'openid email',
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().scope, 'openid email');
    const me = await provider.userinfo(String(res.json().access_token));
    assert.equal(me.body.email, OIDC_ACCOUNTS[0]!.email);
    assert.equal(me.body.name, undefined, 'the profile scope was left out');
  });

  test('with a refresh token the provider does not know is its invalid_grant, with its status', async (t) => {
    const built = await bridge(t);
    const body = assertError(
      await refresh(built, { grant_type: 'refresh_token', refresh_token: 'not-a-refresh-token' }),
      400,
      'invalid_grant',
    );
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
  });

  test('when the provider cannot be reached is 503 temporarily_unavailable', async (t) => {
    const built = await bridge(t);
    await provider.stop();
    try {
      assertError(
        await refresh(built, { grant_type: 'refresh_token', refresh_token: 'anything' }),
        503,
        'temporarily_unavailable',
      );
    } finally {
      await provider.start();
    }
  });

  test("when the provider refuses this server's credentials, the device is told to try later and the operator is told why", async (t) => {
    const { logger, lines } = captureLog();
    const built = await bridge(t, { env: { OAUTH_CLIENT_SECRET: 'not-the-secret' }, logger });
    const res = await refresh(built, { grant_type: 'refresh_token', refresh_token: 'anything' });
    const body = assertError(res, 503, 'temporarily_unavailable');
    assert.equal(res.headers['retry-after'], '5', 'as docs/providers.md says');
    // invalid_client is about this server, not the device's token: nothing the device can fix.
    assert.doesNotMatch(JSON.stringify(body), /invalid_client/);
    const ready = await built.app.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.json().oauth, 'misconfigured', ready.body);
    const errors = lines.filter((line) => line.level === 50);
    assert.ok(
      errors.some((line) => /OAUTH_CLIENT_SECRET/.test(String(line.msg))),
      JSON.stringify(lines.map((line) => [line.level, line.msg])),
    );
    assert.ok(!JSON.stringify(lines).includes('not-the-secret'), 'the secret is never logged');
  });
});

describe('a malformed refresh', () => {
  for (const [what, payload, status] of [
    ['without refresh_token', 'grant_type=refresh_token', 400],
    ['with an empty refresh_token', 'grant_type=refresh_token&refresh_token=', 400],
    ['with refresh_token twice', 'grant_type=refresh_token&refresh_token=a&refresh_token=b', 400],
    ['with scope twice', 'grant_type=refresh_token&refresh_token=a&scope=openid&scope=email', 400],
    ['larger than 16 KiB', `grant_type=refresh_token&refresh_token=${'a'.repeat(20_000)}`, 413],
  ] as const) {
    test(`${what} is ${status} invalid_request, and never reaches the provider`, async (t) => {
      const built = await bridge(t, { env: { RATE_LIMIT_REFRESHES: '1' } });
      assertError(await refresh(built, payload), status, 'invalid_request');
      // Not counted against the address either: a well-formed refresh still goes through.
      const tokens = await login(built);
      const res = await refresh(built, {
        grant_type: 'refresh_token',
        refresh_token: String(tokens.refresh_token),
      });
      assert.equal(res.statusCode, 200, res.body);
    });
  }

  test('as JSON instead of a form is refused with 400, never forwarded', async (t) => {
    const built = await bridge(t);
    const tokens = await login(built);
    const res = await refresh(
      built,
      JSON.stringify({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
      { 'content-type': 'application/json' },
    );
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().access_token, undefined);
  });
});

test('with Postiz, which issues no refresh tokens, the grant is unsupported_grant_type', async (t) => {
  const built = await build(t);
  assertError(
    await refresh(built, { grant_type: 'refresh_token', refresh_token: 'anything' }),
    400,
    'unsupported_grant_type',
  );
});

describe('RATE_LIMIT_REFRESHES', () => {
  test('past the limit, an address gets 429 with Retry-After until its window has passed', async (t) => {
    const built = await bridge(t, {
      env: { RATE_LIMIT_REFRESHES: '3', RATE_LIMIT_REFRESHES_WINDOW_SECONDS: '600' },
    });
    const tokens = await login(built);
    const good = { grant_type: 'refresh_token', refresh_token: String(tokens.refresh_token) };
    // Refused or not, each is forwarded, so each counts.
    assert.equal((await refresh(built, { ...good, refresh_token: 'unknown' })).statusCode, 400);
    assert.equal((await refresh(built, good)).statusCode, 200);
    assert.equal((await refresh(built, good)).statusCode, 200);
    const refused = await refresh(built, good);
    assertError(refused, 429, 'too_many_requests');
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 600, `Retry-After: ${refused.headers['retry-after']}`);
    built.clock.advance(retryAfter * 1000);
    assert.equal((await refresh(built, good)).statusCode, 200);
  });

  test('an IPv6 /48 is one address: its /64s share its budget', async (t) => {
    const built = await bridge(t, { env: { RATE_LIMIT_REFRESHES: '2' } });
    const junk = { grant_type: 'refresh_token', refresh_token: 'unknown' };
    const from = (remoteAddress: string) =>
      built.app.inject({
        method: 'POST',
        url: '/device/token',
        headers: FORM,
        payload: new URLSearchParams(junk).toString(),
        remoteAddress,
      });
    assert.equal((await from('2001:db8:1:1::1')).statusCode, 400, 'forwarded: the provider does not know it');
    assert.equal((await from('2001:db8:1:2::1')).statusCode, 400);
    assertError(await from('2001:db8:1:3::1'), 429, 'too_many_requests');
    assert.equal((await from('2001:db8:2::1')).statusCode, 400, 'another site has its own');
  });

  test("past RATE_LIMIT_REFRESHES_GLOBAL, addresses past their first four are refused; a CLI's refresh from another still goes through", async (t) => {
    const built = await bridge(t, { env: { RATE_LIMIT_REFRESHES: '100', RATE_LIMIT_REFRESHES_GLOBAL: '5' } });
    const tokens = await login(built);
    const from = (remoteAddress: string, refreshToken = 'unknown') =>
      built.app.inject({
        method: 'POST',
        url: '/device/token',
        headers: FORM,
        payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
        remoteAddress,
      });
    // One flooder spends the ceiling, then is refused.
    for (let i = 0; i < 5; i++) assert.equal((await from('198.51.100.7')).statusCode, 400);
    const refused = await from('198.51.100.7');
    assertError(refused, 429, 'too_many_requests');
    assert.ok(Number(refused.headers['retry-after']) > 0);
    // Another address's refreshes go through, the first four.
    assert.equal((await from('203.0.113.9', String(tokens.refresh_token))).statusCode, 200);
    for (let i = 0; i < 3; i++) assert.equal((await from('203.0.113.9')).statusCode, 400);
    assertError(await from('203.0.113.9'), 429, 'too_many_requests');
  });

  test("an address refused by the ceiling gets its allowance back when its own window ends, even while the ceiling's runs on", async (t) => {
    const built = await bridge(t, {
      env: {
        RATE_LIMIT_REFRESHES: '100',
        RATE_LIMIT_REFRESHES_GLOBAL: '5',
        RATE_LIMIT_REFRESHES_WINDOW_SECONDS: '600',
      },
    });
    const from = (remoteAddress: string) =>
      built.app.inject({
        method: 'POST',
        url: '/device/token',
        headers: FORM,
        payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'unknown' }).toString(),
        remoteAddress,
      });
    const flooder = '198.51.100.7';
    const cli = '203.0.113.9';
    assert.equal((await from(flooder)).statusCode, 400, "starts the ceiling's window at 0 s");
    built.clock.advance(550_000);
    assert.equal((await from(cli)).statusCode, 400, "starts the CLI's window at 550 s");
    built.clock.advance(60_000);
    // 610 s: the ceiling's window starts again, and the flooder spends it.
    for (let i = 0; i < 6; i++) await from(flooder);
    built.clock.advance(530_000);
    // 1,140 s: the CLI's 5th in its window is past its allowance with the ceiling spent.
    for (let i = 0; i < 3; i++) assert.equal((await from(cli)).statusCode, 400);
    const refused = await from(cli);
    assertError(refused, 429, 'too_many_requests');
    assert.equal(
      refused.headers['retry-after'],
      '10',
      "until its own window ends at 1,150 s, not the ceiling's at 1,210 s",
    );
    built.clock.advance(10_000);
    assert.equal((await from(cli)).statusCode, 400, 'a new window of its own: its allowance again');
  });

  for (const { name, skip, open } of storesToShare(pg)) {
    test(`lets exactly the limit through when an address sends many at once, on ${name}`, {
      skip,
    }, async (t) => {
      const { store, close } = await open();
      if (close) t.after(() => store.close());
      const built = await bridge(t, { store, env: { RATE_LIMIT_REFRESHES: '4' } });
      const tokens = await login(built);
      const answers = await Promise.all(
        Array.from({ length: 16 }, () =>
          refresh(built, { grant_type: 'refresh_token', refresh_token: String(tokens.refresh_token) }),
        ),
      );
      const statuses = answers.map((res) => res.statusCode);
      assert.equal(statuses.filter((s) => s === 200).length, 4, String(statuses));
      assert.equal(statuses.filter((s) => s === 429).length, 12, String(statuses));
    });
  }
});

test('nothing of a refresh is stored, and its log line names no token', async (t) => {
  const { logger, lines, raw } = captureLog();
  const built = await bridge(t, { logger });
  const { db } = built.store as unknown as { db: Db };
  const tables = ['device_requests', 'code_sightings', 'browser_logins', 'login_events', 'webhook_outbox'];
  const rows = async () => {
    const counts: Record<string, number> = {};
    for (const table of tables)
      counts[table] = Number((await db.query(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n);
    return counts;
  };
  const before = await rows();
  const tokens = await login(built);
  const res = await refresh(built, {
    grant_type: 'refresh_token',
    refresh_token: String(tokens.refresh_token),
  });
  assert.equal(res.statusCode, 200, res.body);
  const answer = res.json() as Record<string, string>;

  assert.deepEqual(await rows(), before);
  // No row of any table holds either token.
  for (const table of [...tables, 'rate_limits']) {
    const dump = JSON.stringify(await db.query(`SELECT * FROM ${table}`));
    for (const secret of [String(tokens.refresh_token), answer.access_token!])
      assert.ok(!dump.includes(secret), `${table} holds a token`);
  }

  const event = lines.find((line) => line.event === 'flow.refreshed');
  assert.ok(event, 'the refresh is logged');
  assert.equal(event.status, 200);
  const log = raw.join('');
  for (const secret of [
    String(tokens.refresh_token),
    answer.access_token!,
    answer.refresh_token!,
    provider.clients.basic.clientSecret,
  ])
    assert.ok(!log.includes(secret), 'the log holds a token or the client secret');
});
