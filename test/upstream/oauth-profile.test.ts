/**
 * The generic profile (`UPSTREAM=oauth`, src/upstream/oauth/, docs/providers.md) against a real
 * authorization server, panva's `oidc-provider` in process (harness/oidc-provider.ts), driven
 * over HTTP: discovery (and an issuer that does not match, refused at start-up), both client
 * authentication methods, the userinfo and introspection checks, the exchange's failures, the
 * token answer the device receives, and the refresh answers.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, type TestContext, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { testConfig } from '../../harness/build.js';
import {
  loginThrough,
  OIDC_ACCOUNTS,
  type OidcProvider,
  oauthSettings,
  startOidcProvider,
} from '../../harness/oidc-provider.js';
import { cleanEnv, spawnNode, TSX } from '../../harness/processes.js';
import { createCredentialsCheck } from '../../src/upstream/credentials.js';
import { createUpstream, upstreamIdentity } from '../../src/upstream/index.js';
import { DiscoveryError, discover } from '../../src/upstream/oauth/discovery.js';
import { type Upstream, UpstreamError } from '../../src/upstream/upstream.js';

const REDIRECT_URI = 'http://localhost:3111/device/callback';
const ADA = OIDC_ACCOUNTS[0]!;

let provider: OidcProvider;
before(async () => {
  provider = await startOidcProvider({ redirectUri: REDIRECT_URI });
});
after(() => provider?.stop());

/** The profile as the server builds it from its settings, bridging to the provider, with `env` added. */
function profile(env: Record<string, string> = {}, client = provider.clients.basic): Promise<Upstream> {
  return createUpstream(
    testConfig({ SERVER_URL: 'http://localhost:3111', ...oauthSettings(provider, client), ...env }),
  );
}

/** The `UpstreamError` an exchange fails with. */
async function exchangeError(upstream: Upstream, request: Parameters<Upstream['exchangeCode']>[0]) {
  try {
    await upstream.exchangeCode(request);
  } catch (err) {
    assert.ok(err instanceof UpstreamError, String(err));
    return err;
  }
  assert.fail('the exchange succeeded');
}

describe('discovery', () => {
  test("the endpoints come from the issuer's metadata; the authorization request asks for PKCE S256 and, with offline_access, consent", async () => {
    const upstream = await profile();
    const url = new URL(
      upstream.authorizeUrl({ state: 'st', codeChallenge: 'ch', redirectUri: REDIRECT_URI }),
    );
    assert.equal(`${url.origin}${url.pathname}`, `${provider.issuer}/auth`);
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      client_id: 'cli-auth',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access profile email',
      prompt: 'consent',
      state: 'st',
      code_challenge: 'ch',
      code_challenge_method: 'S256',
    });
    assert.equal(upstream.authorizeOrigin, provider.issuer);
    assert.equal(upstream.probeUrl, `${provider.issuer}/token`);
    assert.deepEqual(upstream.names, {
      provider: 'Example',
      client: 'Example CLI',
      command: 'example login',
    });
  });

  test('without OAUTH_PROVIDER_NAME, pages name the provider by its host', async () => {
    const upstream = await profile({ OAUTH_PROVIDER_NAME: '' });
    assert.equal(upstream.names.provider, new URL(provider.issuer).host);
  });

  test('metadata naming another issuer is refused, naming both', async () => {
    // The same server under another name: its metadata names the issuer it was configured with.
    const other = provider.issuer.replace('127.0.0.1', 'localhost');
    await assert.rejects(profile({ OAUTH_ISSUER: other }), (err: unknown) => {
      assert.ok(err instanceof DiscoveryError);
      assert.equal(
        err.message,
        `OAUTH_ISSUER (${other}): the metadata at ${other}/.well-known/openid-configuration names another issuer (${provider.issuer}): set OAUTH_ISSUER to the provider's issuer exactly`,
      );
      return true;
    });
  });

  test('serve stops at start-up with that one line when the issuer does not match', async (t) => {
    const other = provider.issuer.replace('127.0.0.1', 'localhost');
    const child = spawnNode(t, ['--import', TSX, 'src/cli.ts', 'serve'], {
      env: cleanEnv({
        ...oauthSettings(provider),
        OAUTH_ISSUER: other,
        PGLITE_DATA_DIR: 'memory',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
      }),
    });
    const { code } = await child.waitForExit(30_000);
    assert.equal(code, 1, child.stderr());
    assert.equal(
      child.stderr().trim(),
      `postiz-cli-auth: OAUTH_ISSUER (${other}): the metadata at ${other}/.well-known/openid-configuration names another issuer (${provider.issuer}): set OAUTH_ISSUER to the provider's issuer exactly`,
    );
  });
});

describe('discovery, against metadata served as written here', () => {
  /** A server whose metadata is `metadata(its own URL)` at both well-known paths; its URL. */
  async function serving(t: TestContext, metadata: (url: string) => unknown): Promise<string> {
    const server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(metadata(url)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return url;
  }

  test('an issuer that differs only by a trailing slash matches, as docs/providers.md says', async (t) => {
    const url = await serving(t, (own) => ({
      issuer: `${own}/`,
      authorization_endpoint: `${own}/authorize`,
      token_endpoint: `${own}/token`,
    }));
    const found = await discover(url, 2000);
    assert.equal(found.token_endpoint, `${url}/token`);
  });

  /** The settings of a provider whose issuer is `issuer`, with `env` added. */
  const settingsOf = (issuer: string, env: Record<string, string> = {}) =>
    testConfig({
      UPSTREAM: 'oauth',
      OAUTH_ISSUER: issuer,
      OAUTH_CLIENT_ID: 'client',
      OAUTH_CLIENT_SECRET: 'secret',
      ...env,
    });

  test('an endpoint in the metadata that is not an http(s) URL stops the start, naming it and the setting that stands in', async (t) => {
    for (const [field, value, problem, setting] of [
      ['token_endpoint', '/token', 'is not an absolute URL', 'OAUTH_TOKEN_ENDPOINT'],
      [
        'authorization_endpoint',
        'javascript:alert(1)',
        'starts with javascript:, not https: or http:',
        'OAUTH_AUTHORIZATION_ENDPOINT',
      ],
      ['userinfo_endpoint', 'https://id.example.com/me#x', 'has a fragment', 'OAUTH_USERINFO_ENDPOINT'],
    ] as const) {
      const url = await serving(t, (own) => ({
        issuer: own,
        authorization_endpoint: `${own}/authorize`,
        token_endpoint: `${own}/token`,
        userinfo_endpoint: `${own}/me`,
        [field]: value,
      }));
      await assert.rejects(createUpstream(settingsOf(url, { OAUTH_SCOPES: 'openid' })), (err: unknown) => {
        assert.ok(err instanceof DiscoveryError, String(err));
        assert.equal(
          err.message,
          `OAUTH_ISSUER (${url}): its metadata's ${field} "${value}" ${problem}: fix the provider's metadata, or set ${setting}`,
        );
        return true;
      });
    }
  });

  test("an endpoint the profile does not use is not held against the start; an authorization endpoint's query is kept", async (t) => {
    const url = await serving(t, (own) => ({
      issuer: own,
      authorization_endpoint: `${own}/authorize?p=sign_in`,
      token_endpoint: `${own}/token`,
      introspection_endpoint: 'not a URL',
    }));
    const upstream = await createUpstream(settingsOf(url));
    const authorize = new URL(
      upstream.authorizeUrl({ state: 's', codeChallenge: 'c', redirectUri: REDIRECT_URI }),
    );
    assert.equal(authorize.searchParams.get('p'), 'sign_in');
    assert.equal(authorize.searchParams.get('state'), 's');
  });

  test('metadata whose body stalls stops the start with the issuer and the timeout, not a bare abort', async (t) => {
    const server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.write('{"issuer":'); // and nothing more
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await assert.rejects(discover(url, 300), (err: unknown) => {
      assert.ok(err instanceof DiscoveryError, String(err));
      assert.equal(
        err.message,
        `OAUTH_ISSUER (${url}): its metadata at ${url}/.well-known/openid-configuration cannot be read: no answer within 300 ms (UPSTREAM_TIMEOUT_MS)`,
      );
      return true;
    });
  });

  test('metadata past 1 MiB stops the start as unreadable', async (t) => {
    const url = await serving(t, (own) => ({
      issuer: own,
      authorization_endpoint: `${own}/authorize`,
      token_endpoint: `${own}/token`,
      padding: 'x'.repeat(1024 * 1024),
    }));
    await assert.rejects(discover(url, 2000), (err: unknown) => {
      assert.ok(err instanceof DiscoveryError, String(err));
      assert.match(err.message, /cannot be read: its body runs past 1 MiB$/);
      return true;
    });
  });

  test("an unnamed provider is named the same by the server and by commands that read no metadata (the issuer's host), whatever host its metadata's authorization endpoint has", async (t) => {
    const url = await serving(t, (own) => ({
      issuer: own,
      authorization_endpoint: `${own.replace('127.0.0.1', 'localhost')}/authorize`,
      token_endpoint: `${own}/token`,
    }));
    const config = settingsOf(url);
    const upstream = await createUpstream(config);
    assert.equal(upstream.names.provider, new URL(url).host);
    assert.deepEqual(upstream.names, upstreamIdentity(config).names);
  });

  test('grant_types_supported: without refresh_token, refreshes are not forwarded; with it, or without the field, they are', async (t) => {
    const withGrants = (grants: string[] | undefined) =>
      serving(t, (own) => ({
        issuer: own,
        authorization_endpoint: `${own}/authorize`,
        token_endpoint: `${own}/token`,
        ...(grants ? { grant_types_supported: grants } : {}),
      }));
    const codeOnly = await createUpstream(settingsOf(await withGrants(['authorization_code', 'implicit'])));
    assert.equal(codeOnly.refresh, undefined);
    assert.ok(!('refresh_token' in codeOnly.tokenAnswerSchema.properties));
    // A refresh token it sends all the same is not passed on: the device could not use it here.
    const issued = { access_token: 'a', token_type: 'Bearer', refresh_token: 'r', obtained_at: 0 };
    assert.deepEqual(codeOnly.tokenAnswer(issued, 0), { access_token: 'a', token_type: 'Bearer' });
    const refreshing = await createUpstream(
      settingsOf(await withGrants(['authorization_code', 'refresh_token'])),
    );
    assert.equal(typeof refreshing.refresh, 'function');
    const unsaid = await createUpstream(settingsOf(await withGrants(undefined)));
    assert.equal(typeof unsaid.refresh, 'function');
    assert.equal(unsaid.tokenAnswer(issued, 0).refresh_token, 'r');
    assert.ok('refresh_token' in unsaid.tokenAnswerSchema.properties);
  });

  test('metadata that cannot be read stops the start with its cause', async () => {
    // A port nothing listens on: the connection is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(discover(url, 2000), (err: unknown) => {
      assert.ok(err instanceof DiscoveryError);
      assert.match(
        err.message,
        /^OAUTH_ISSUER \(http:\/\/127\.0\.0\.1:\d+\): its metadata at .+ cannot be read: .*ECONNREFUSED/,
      );
      return true;
    });
  });
});

describe('client authentication', () => {
  for (const auth of ['client_secret_basic', 'client_secret_post'] as const) {
    test(`${auth}: a login's code is exchanged for the provider's tokens, for the account that logged in`, async () => {
      const client = auth === 'client_secret_basic' ? provider.clients.basic : provider.clients.post;
      const upstream = await profile({}, client);
      const { grant } = await loginThrough(upstream, REDIRECT_URI, ADA.id);
      assert.equal(grant.account.id, ADA.id);
      assert.equal((await provider.userinfo(grant.accessToken)).body.sub, ADA.id);
      assert.ok(provider.live('RefreshToken').includes(String(grant.sealed.refresh_token)));
      const refreshed = await upstream.refresh!({ refreshToken: String(grant.sealed.refresh_token) });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      // The provider takes either method from either client: what it saw is the test.
      const sent = auth === 'client_secret_basic' ? 'basic' : 'post';
      assert.deepEqual(provider.tokenRequests().slice(-2), [
        { grantType: 'authorization_code', secretSent: sent },
        { grantType: 'refresh_token', secretSent: sent },
      ]);
    });
  }

  test('the credentials check (a junk code) tells right credentials from a wrong secret', async () => {
    const right = createCredentialsCheck({ upstream: await profile(), redirectUri: REDIRECT_URI });
    assert.equal(await right.check(), 'accepted');
    const wrong = createCredentialsCheck({
      upstream: await profile({ OAUTH_CLIENT_SECRET: 'not-the-secret' }),
      redirectUri: REDIRECT_URI,
    });
    assert.equal(await wrong.check(), 'refused');
  });
});

describe('the token check', () => {
  test("userinfo: a working token is working, with the account's sub and name; a revoked one is refused", async () => {
    const upstream = await profile({ OAUTH_TOKEN_CHECK: 'userinfo' });
    const { grant } = await loginThrough(upstream, REDIRECT_URI, ADA.id);
    assert.deepEqual(await upstream.checkToken(grant, 2000), {
      result: 'working',
      account: { id: ADA.id, name: ADA.name },
    });
    await provider.revoke(grant.accessToken, 'access_token');
    assert.deepEqual(await upstream.checkToken(grant, 2000), {
      result: 'refused',
      reason: 'token_refused',
      status: 401,
    });
  });

  test("introspection: a working token is working, with the account's sub and user name; a revoked one is refused", async () => {
    const upstream = await profile({ OAUTH_TOKEN_CHECK: 'introspection' }, provider.clients.post);
    const { grant } = await loginThrough(upstream, REDIRECT_URI, OIDC_ACCOUNTS[1]!.id);
    assert.deepEqual(await upstream.checkToken(grant, 2000), {
      result: 'working',
      account: { id: OIDC_ACCOUNTS[1]!.id, name: OIDC_ACCOUNTS[1]!.email },
    });
    await provider.revoke(grant.accessToken, 'access_token', provider.clients.post);
    assert.deepEqual(await upstream.checkToken(grant, 2000), {
      result: 'refused',
      reason: 'inactive',
      status: 200,
    });
  });

  test('without the openid scope, a working token is handed over unchecked, not refused: userinfo (which wants openid) is not the default check', async () => {
    const upstream = await profile({ OAUTH_SCOPES: 'email' });
    const { grant } = await loginThrough(upstream, REDIRECT_URI, ADA.id);
    // The provider's userinfo refuses a token without the openid scope, though it works.
    assert.equal((await provider.userinfo(grant.accessToken)).status, 403);
    assert.deepEqual(await upstream.checkToken(grant, 2000), { result: 'unchecked', detail: 'not asked' });
  });

  test('userinfo asked of a token without openid answers insufficient_scope, which leaves the token unchecked, not refused (RFC 6750 §3.1)', async () => {
    const upstream = await profile({ OAUTH_SCOPES: 'email', OAUTH_TOKEN_CHECK: 'userinfo' });
    const { grant } = await loginThrough(upstream, REDIRECT_URI, ADA.id);
    assert.deepEqual(await upstream.checkToken(grant, 2000), {
      result: 'unchecked',
      detail: 'HTTP 403 insufficient_scope',
    });
  });

  test('with openid among the scopes, userinfo is the default check', async () => {
    const upstream = await profile({ OAUTH_SCOPES: 'openid' });
    const { grant } = await loginThrough(upstream, REDIRECT_URI, ADA.id);
    assert.deepEqual(await upstream.checkToken(grant, 2000), { result: 'working', account: { id: ADA.id } });
  });

  test('a provider that cannot be reached leaves the token unchecked', async () => {
    const upstream = await profile();
    const { grant } = await loginThrough(upstream, REDIRECT_URI);
    await provider.stop();
    try {
      const checked = await upstream.checkToken(grant, 2000);
      assert.equal(checked.result, 'unchecked');
      // Refused, or its kept-alive connection closed: either way, nobody answers.
      assert.match(
        String((checked as { detail: string }).detail),
        /^the userinfo endpoint \(.+\) cannot be reached: /,
      );
    } finally {
      await provider.start();
    }
  });
});

describe('the exchange', () => {
  test('a code redeemed once is refused the second time: rejected (invalid_grant)', async () => {
    const upstream = await profile();
    const { code, verifier } = await loginThrough(upstream, REDIRECT_URI);
    const err = await exchangeError(upstream, { code, codeVerifier: verifier, redirectUri: REDIRECT_URI });
    assert.equal(err.kind, 'rejected');
    assert.equal(err.detail, 'HTTP 400 invalid_grant');
  });

  test('a wrong client secret is misconfigured, and names the settings to check', async () => {
    const upstream = await profile({ OAUTH_CLIENT_SECRET: 'not-the-secret' });
    const err = await exchangeError(upstream, {
      code: 'x'.repeat(43),
      codeVerifier: 'v'.repeat(43),
      redirectUri: REDIRECT_URI,
    });
    assert.equal(err.kind, 'misconfigured');
    assert.match(err.detail, /^invalid_client: check OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET/);
    assert.ok(!err.message.includes('not-the-secret'), 'the secret is never in the error');
  });

  test('a provider that cannot be reached is unavailable, naming the token endpoint', async () => {
    const upstream = await profile();
    await provider.stop();
    try {
      const err = await exchangeError(upstream, {
        code: 'x'.repeat(43),
        codeVerifier: 'v'.repeat(43),
        redirectUri: REDIRECT_URI,
      });
      assert.equal(err.kind, 'unavailable');
      assert.match(
        err.detail,
        new RegExp(`^the token endpoint \\(${provider.issuer}/token\\) cannot be reached: `),
      );
    } finally {
      await provider.start();
    }
  });

  for (const framing of ['with its length', 'chunked, with no length', 'gzipped, small on the wire'] as const)
    test(`a token endpoint answering past 1 MiB (${framing}) is unavailable, its body read no further, even a success`, async (t) => {
      const padding = 'x'.repeat(2 * 1024 * 1024);
      const body = JSON.stringify({ access_token: 'a-token', token_type: 'Bearer', padding });
      const server = createServer((_request, response) => {
        response.setHeader('content-type', 'application/json');
        if (framing === 'with its length') response.end(body);
        else if (framing === 'gzipped, small on the wire') {
          response.setHeader('content-encoding', 'gzip');
          response.end(gzipSync(body));
        } else {
          // Written in pieces: Node sends it chunked, so only the count of bytes read can stop it.
          for (let i = 0; i < body.length; i += 64 * 1024) response.write(body.slice(i, i + 64 * 1024));
          response.end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      t.after(() => new Promise((resolve) => server.close(resolve)));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const seen: string[] = [];
      const upstream = await createUpstream(
        testConfig({
          UPSTREAM: 'oauth',
          OAUTH_AUTHORIZATION_ENDPOINT: `${url}/authorize`,
          OAUTH_TOKEN_ENDPOINT: `${url}/token`,
          OAUTH_CLIENT_ID: 'client',
          OAUTH_CLIENT_SECRET: 'secret',
        }),
        (status) => seen.push(status),
      );
      const err = await exchangeError(upstream, {
        code: 'code-1234',
        codeVerifier: 'v',
        redirectUri: REDIRECT_URI,
      });
      assert.equal(err.kind, 'unavailable');
      assert.equal(
        err.detail,
        `the token endpoint (${url}/token) answered HTTP 200: its body runs past 1 MiB`,
      );
      assert.deepEqual(seen, ['200']);
    });

  test("the provider's codes are shaped like codes (worth burning)", async () => {
    const upstream = await profile();
    const { code } = await loginThrough(upstream, REDIRECT_URI);
    assert.ok(upstream.isCodeShaped(code));
  });
});

describe("the device's token answer", () => {
  test("is the provider's token fields, expires_in as left when collected, and no ID token (it is addressed to this server's client)", async () => {
    const upstream = await profile();
    const { grant } = await loginThrough(upstream, REDIRECT_URI);
    const answer = upstream.tokenAnswer(grant.sealed, Number(grant.sealed.obtained_at) + 600_000);
    assert.deepEqual(Object.keys(answer).sort(), [
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    assert.equal(answer.access_token, grant.accessToken);
    assert.equal(answer.token_type, 'Bearer');
    assert.equal(answer.expires_in, 3000);
    assert.equal(answer.scope, 'openid offline_access profile email');
  });

  test('without offline_access there is no prompt=consent and no refresh token', async () => {
    const upstream = await profile({ OAUTH_SCOPES: 'openid email' });
    const url = new URL(upstream.authorizeUrl({ state: 's', codeChallenge: 'c', redirectUri: REDIRECT_URI }));
    assert.equal(url.searchParams.get('prompt'), null);
    const { grant } = await loginThrough(upstream, REDIRECT_URI);
    assert.equal(upstream.tokenAnswer(grant.sealed, Date.now()).refresh_token, undefined);
  });
});

describe('a refresh', () => {
  test("succeeds with the provider's token fields only (no ID token), and the new access token works", async () => {
    const upstream = await profile();
    const { grant } = await loginThrough(upstream, REDIRECT_URI, ADA.id);
    const answer = await upstream.refresh!({ refreshToken: String(grant.sealed.refresh_token) });
    assert.equal(answer.status, 200);
    assert.deepEqual(Object.keys(answer.body).sort(), [
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    assert.equal((await provider.userinfo(String(answer.body.access_token))).body.sub, ADA.id);
  });

  test("of a revoked refresh token is the provider's 400 invalid_grant, passed through", async () => {
    const upstream = await profile();
    const { grant } = await loginThrough(upstream, REDIRECT_URI);
    await provider.revoke(String(grant.sealed.refresh_token), 'refresh_token');
    const answer = await upstream.refresh!({ refreshToken: String(grant.sealed.refresh_token) });
    assert.equal(answer.status, 400);
    assert.deepEqual(Object.keys(answer.body).sort(), ['error', 'error_description']);
    assert.equal(answer.body.error, 'invalid_grant');
  });

  test('when the provider cannot be reached fails as unavailable (the device gets 503: test/http/refresh.test.ts)', async () => {
    const upstream = await profile();
    await provider.stop();
    try {
      await assert.rejects(
        upstream.refresh!({ refreshToken: 'anything' }),
        (err) =>
          err instanceof UpstreamError && err.kind === 'unavailable' && /cannot be reached/.test(err.detail),
      );
    } finally {
      await provider.start();
    }
  });

  test("when the provider refuses this server's secret fails as misconfigured, never passing invalid_client on", async () => {
    const upstream = await profile({ OAUTH_CLIENT_SECRET: 'not-the-secret' });
    await assert.rejects(
      upstream.refresh!({ refreshToken: 'anything' }),
      (err) =>
        err instanceof UpstreamError && err.kind === 'misconfigured' && /invalid_client/.test(err.detail),
    );
  });
});
