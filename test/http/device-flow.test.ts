/**
 * The device flow over HTTP, through `app.inject`: the CLI's requests, RFC 8628 clients'
 * requests, the browser pages (with a cookie jar), the Postiz stand-in's consent page (real
 * HTTP, since the app exchanges codes with it), and malformed input of every kind.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Built, build, TEST_CLIENT_ID } from '../../harness/build.js';
import type { DeviceAuthorization } from '../../harness/device.js';
import { type Answer, field, InjectBrowser } from '../../harness/inject-browser.js';
import { REDELIVERY_GRACE_MS } from '../../src/device-flow/poller.js';
import { buildInfo } from '../../src/version.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };
const SECOND = 1000;

/** POST /device/code exactly as the postiz CLI sends it: JSON content type, no body. */
async function startFlow(app: FastifyInstance): Promise<DeviceAuthorization> {
  const res = await app.inject({ method: 'POST', url: '/device/code', headers: JSON_TYPE });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

/** POST /device/token as the postiz CLI does: JSON `{device_code}`. */
function poll(app: FastifyInstance, deviceCode: unknown): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/device/token',
    headers: JSON_TYPE,
    payload: JSON.stringify({ device_code: deviceCode }),
  });
}

/** Assert an OAuth error answer: status, JSON, the error code, no caching. */
function assertOAuthError(res: LightMyRequestResponse, error: string, status = 400): Record<string, unknown> {
  assert.equal(res.statusCode, status, `status for ${error}: ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json();
  assert.equal(body.error, error, res.body);
  return body;
}

/** Poll after the interval has passed on the manual clock (so the poll is never too soon). */
async function pollLater(built: Built, deviceCode: string): Promise<LightMyRequestResponse> {
  built.clock.advance(built.config.pollIntervalSeconds * SECOND);
  return poll(built.app, deviceCode);
}

/** A browser for `built`, sending SERVER_URL's origin like a real one. */
function browserFor(built: Built): InjectBrowser {
  return new InjectBrowser(built.app, new URL(built.config.serverUrl).origin);
}

/** Path and query of an absolute URL on our server, for `inject`. */
function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** Open the entry page (pre-filled from `verification_uri_complete`) and submit `typed`: the confirmation page. */
async function lookUp(
  browser: InjectBrowser,
  flow: DeviceAuthorization,
  typed = flow.user_code,
): Promise<Answer> {
  const entry = await browser.get(pathOf(flow.verification_uri_complete));
  assert.equal(entry.status, 200);
  return browser.post('/device/verify', {
    _csrf: field(entry.body, '_csrf'),
    user_code: typed,
    action: 'lookup',
  });
}

/** From the confirmation page, press Continue: the redirect to Postiz. */
async function confirm(browser: InjectBrowser, page: Answer): Promise<URL> {
  assert.equal(page.status, 200, page.body);
  const res = await browser.post('/device/verify', {
    _csrf: field(page.body, '_csrf'),
    user_code: field(page.body, 'user_code'),
    action: 'confirm',
  });
  assert.equal(res.status, 303, res.body);
  return new URL(String(res.location));
}

/** The whole browser side: entry, confirmation, Postiz consent, callback. Returns the callback's page. */
async function walkBrowser(
  built: Built,
  flow: DeviceAuthorization,
  decision: 'approve' | 'deny',
): Promise<Answer> {
  const browser = browserFor(built);
  const toPostiz = await confirm(browser, await lookUp(browser, flow));
  const back = await built.standIn.decide(toPostiz, decision);
  assert.equal(back.origin + back.pathname, `${built.config.serverUrl}/device/callback`);
  return browser.get(pathOf(back.href));
}

/** The value of the code-entry input of a page. */
function typedValue(body: string): string | undefined {
  return body.match(/<input id="user_code" name="user_code"[^>]*value="([^"]*)"/)?.[1];
}

describe('POST /device/code', () => {
  /** The six fields, their shapes, and the headers. */
  function assertAuthorization(built: Built, res: LightMyRequestResponse): DeviceAuthorization {
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.match(String(res.headers['cache-control']), /no-store/);
    const body = res.json() as DeviceAuthorization;
    assert.deepEqual(Object.keys(body).sort(), [
      'device_code',
      'expires_in',
      'interval',
      'user_code',
      'verification_uri',
      'verification_uri_complete',
    ]);
    assert.match(body.device_code, /^[A-Za-z0-9_-]{43,}$/);
    assert.match(body.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(body.verification_uri, `${built.config.serverUrl}/device/verify`);
    assert.equal(new URL(body.verification_uri).search, '', 'no query string');
    assert.equal(body.verification_uri_complete, `${body.verification_uri}?code=${body.user_code}`);
    assert.equal(body.expires_in, 900);
    assert.equal(body.interval, 5);
    return body;
  }

  const requests: Array<[string, InjectOptions]> = [
    ['no body with content-type: application/json (the postiz CLI)', { headers: JSON_TYPE }],
    ['no body and no content type', {}],
    ['an empty JSON object', { headers: JSON_TYPE, payload: '{}' }],
    ['JSON with client_id', { headers: JSON_TYPE, payload: JSON.stringify({ client_id: TEST_CLIENT_ID }) }],
    ['a form body with client_id', { headers: FORM_TYPE, payload: `client_id=${TEST_CLIENT_ID}` }],
    ['an empty form body', { headers: FORM_TYPE, payload: '' }],
  ];
  for (const [what, options] of requests) {
    test(`accepts ${what}`, async (t) => {
      const built = await build(t);
      const res = await built.app.inject({ method: 'POST', url: '/device/code', ...options });
      assertAuthorization(built, res);
    });
  }

  test('every flow gets its own codes', async (t) => {
    const { app } = await build(t);
    const flows = await Promise.all(Array.from({ length: 10 }, () => startFlow(app)));
    assert.equal(new Set(flows.map((f) => f.device_code)).size, 10);
    assert.equal(new Set(flows.map((f) => f.user_code)).size, 10);
  });

  test('SERVER_URL shapes verification_uri', async (t) => {
    const built = await build(t, { env: { SERVER_URL: 'https://auth.example.com/' } });
    const flow = await startFlow(built.app);
    assert.equal(flow.verification_uri, 'https://auth.example.com/device/verify');
    assert.equal(
      flow.verification_uri_complete,
      `https://auth.example.com/device/verify?code=${flow.user_code}`,
    );
  });
});

describe('POST /device/token requests', () => {
  test('JSON {device_code} of a pending flow: authorization_pending, not cached', async (t) => {
    const { app } = await build(t);
    const flow = await startFlow(app);
    const res = await poll(app, flow.device_code);
    assertOAuthError(res, 'authorization_pending');
    assert.match(String(res.headers['cache-control']), /no-store/);
  });

  test('RFC 8628 form with grant_type, device_code and client_id: authorization_pending', async (t) => {
    const { app } = await build(t);
    const flow = await startFlow(app);
    const res = await app.inject({
      method: 'POST',
      url: '/device/token',
      headers: FORM_TYPE,
      payload: new URLSearchParams({
        grant_type: GRANT,
        device_code: flow.device_code,
        client_id: 'x',
      }).toString(),
    });
    assertOAuthError(res, 'authorization_pending');
  });

  test('JSON with the right grant_type is accepted too', async (t) => {
    const { app } = await build(t);
    const flow = await startFlow(app);
    const res = await app.inject({
      method: 'POST',
      url: '/device/token',
      headers: JSON_TYPE,
      payload: JSON.stringify({ grant_type: GRANT, device_code: flow.device_code }),
    });
    assertOAuthError(res, 'authorization_pending');
  });

  test('a form without grant_type: invalid_request', async (t) => {
    const { app } = await build(t);
    const flow = await startFlow(app);
    const res = await app.inject({
      method: 'POST',
      url: '/device/token',
      headers: FORM_TYPE,
      payload: new URLSearchParams({ device_code: flow.device_code }).toString(),
    });
    assertOAuthError(res, 'invalid_request');
  });

  test('a wrong grant_type: unsupported_grant_type (form and JSON)', async (t) => {
    const { app } = await build(t);
    const flow = await startFlow(app);
    const form = await app.inject({
      method: 'POST',
      url: '/device/token',
      headers: FORM_TYPE,
      payload: new URLSearchParams({
        grant_type: 'authorization_code',
        device_code: flow.device_code,
      }).toString(),
    });
    assertOAuthError(form, 'unsupported_grant_type');
    const json = await app.inject({
      method: 'POST',
      url: '/device/token',
      headers: JSON_TYPE,
      payload: JSON.stringify({ grant_type: 'password', device_code: flow.device_code }),
    });
    assertOAuthError(json, 'unsupported_grant_type');
  });

  test('a missing device_code: invalid_request', async (t) => {
    const { app } = await build(t);
    for (const [headers, payload] of [
      [JSON_TYPE, '{}'],
      [JSON_TYPE, JSON.stringify({ device_code: '' })],
      [FORM_TYPE, `grant_type=${encodeURIComponent(GRANT)}`],
      [JSON_TYPE, undefined],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/device/token', headers, payload });
      assertOAuthError(res, 'invalid_request');
    }
  });

  test('an unknown device_code: invalid_grant', async (t) => {
    const { app } = await build(t);
    assertOAuthError(await poll(app, 'A'.repeat(43)), 'invalid_grant');
    assertOAuthError(await poll(app, 'not-one-of-ours'), 'invalid_grant');
    assertOAuthError(await poll(app, 'has spaces and +/= in it'), 'invalid_grant');
  });
});

describe('the whole flow through the pages', () => {
  test('approval: pending, then the token with bearer, api_url and organization_id (again within the redelivery grace), then invalid_grant', async (t) => {
    const built = await build(t);
    const { app, standIn, config } = built;
    const flow = await startFlow(app);
    assertOAuthError(await poll(app, flow.device_code), 'authorization_pending');

    const browser = browserFor(built);
    const confirmation = await lookUp(browser, flow);
    assert.match(confirmation.body, new RegExp(flow.user_code), 'the confirmation page shows the code');
    assertOAuthError(await pollLater(built, flow.device_code), 'authorization_pending');

    const toPostiz = await confirm(browser, confirmation);
    assert.equal(toPostiz.origin + toPostiz.pathname, `${config.postizFrontendUrl}/oauth/authorize`);
    assert.equal(toPostiz.searchParams.get('client_id'), TEST_CLIENT_ID);
    assert.equal(toPostiz.searchParams.get('response_type'), 'code');
    assert.equal(toPostiz.searchParams.get('redirect_uri'), `${config.serverUrl}/device/callback`);
    assert.equal(toPostiz.searchParams.get('code_challenge_method'), 'S256');
    assert.match(toPostiz.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    const state = toPostiz.searchParams.get('state') ?? '';
    assert.ok(state.length >= 32 && state !== flow.device_code, 'state is opaque and not the device code');
    assert.ok(
      [...browser.cookies.keys()].some((name) => name.startsWith('pca_bind_')),
      'the bind cookie is set',
    );
    assertOAuthError(await pollLater(built, flow.device_code), 'authorization_pending');

    const back = await standIn.decide(toPostiz, 'approve');
    assert.equal(back.searchParams.get('state'), state);
    const done = await browser.get(pathOf(back.href));
    assert.equal(done.status, 200, done.body);
    assert.match(String(done.headers['content-type']), /^text\/html/);

    const res = await pollLater(built, flow.device_code);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['cache-control']), /no-store/);
    const token = res.json();
    const accessToken: string = token.access_token;
    assert.deepEqual(token, {
      access_token: standIn.issuedTokens().at(-1),
      token_type: 'bearer',
      api_url: config.postizApiUrl,
      organization_id: 'org_test',
    });
    assert.match(accessToken, /^pos_/);
    assert.ok(standIn.isValid(accessToken));

    const again = await pollLater(built, flow.device_code);
    assert.deepEqual(again.json(), token, 'the same device code collects it again within the grace');
    built.clock.advance(REDELIVERY_GRACE_MS);
    assertOAuthError(await pollLater(built, flow.device_code), 'invalid_grant');
    assertOAuthError(await pollLater(built, flow.device_code), 'invalid_grant');
  });

  test('the callback without the bind cookie is refused and leaves the flow pending', async (t) => {
    const built = await build(t);
    const flow = await startFlow(built.app);
    const browser = browserFor(built);
    const back = await built.standIn.decide(await confirm(browser, await lookUp(browser, flow)), 'approve');
    const stranger = await browserFor(built).get(pathOf(back.href));
    assert.equal(stranger.status, 403);
    assert.match(String(stranger.headers['content-type']), /^text\/html/);
    assertOAuthError(await pollLater(built, flow.device_code), 'authorization_pending');
  });

  test('denial at Postiz: access_denied', async (t) => {
    const built = await build(t);
    const flow = await startFlow(built.app);
    const page = await walkBrowser(built, flow, 'deny');
    assert.equal(page.status, 200, page.body);
    const res = await pollLater(built, flow.device_code);
    assertOAuthError(res, 'access_denied');
    assert.equal(built.standIn.issuedTokens().length, 0);
    assertOAuthError(await pollLater(built, flow.device_code), 'access_denied');
  });

  test('cancel on our confirmation page: access_denied, and nothing goes to Postiz', async (t) => {
    const built = await build(t);
    const flow = await startFlow(built.app);
    const browser = browserFor(built);
    const confirmation = await lookUp(browser, flow);
    const cancelled = await browser.post('/device/verify', {
      _csrf: field(confirmation.body, '_csrf'),
      user_code: field(confirmation.body, 'user_code'),
      action: 'deny',
    });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.headers.location, undefined, 'no redirect to Postiz');
    assertOAuthError(await pollLater(built, flow.device_code), 'access_denied');
    // The code is used up: entering it again does not lead to a confirmation.
    const again = await lookUp(browserFor(built), flow);
    assert.equal(again.status, 400);
    assert.equal(again.location, undefined);
  });

  test('expiry on the manual clock: expired_token, stable on repeated polls', async (t) => {
    const built = await build(t);
    const flow = await startFlow(built.app);
    assertOAuthError(await poll(built.app, flow.device_code), 'authorization_pending');
    built.clock.advance(flow.expires_in * SECOND);
    for (let i = 0; i < 4; i++) {
      assertOAuthError(await poll(built.app, flow.device_code), 'expired_token');
      built.clock.advance(i * 60 * SECOND);
    }
    assertOAuthError(await poll(built.app, flow.device_code), 'expired_token');
  });

  test('an expired code can no longer be entered', async (t) => {
    const built = await build(t);
    const flow = await startFlow(built.app);
    built.clock.advance(flow.expires_in * SECOND + SECOND);
    const page = await lookUp(browserFor(built), flow);
    assert.equal(page.status, 400);
    assert.match(String(page.headers['content-type']), /^text\/html/);
  });
});

describe('code entry', () => {
  for (const [what, transform] of [
    ['lower case', (c: string) => c.toLowerCase()],
    ['spaces', (c: string) => ` ${c.replace('-', ' ')} `],
    ['no dash', (c: string) => c.replace('-', '')],
    ['lower case, no dash', (c: string) => c.replace('-', '').toLowerCase()],
  ] as const) {
    test(`accepts the code typed with ${what}`, async (t) => {
      const built = await build(t);
      const flow = await startFlow(built.app);
      const page = await lookUp(browserFor(built), flow, transform(flow.user_code));
      assert.equal(page.status, 200, page.body);
      assert.equal(
        field(page.body, 'user_code'),
        flow.user_code,
        'the confirmation carries the canonical code',
      );
    });
  }

  test('a wrong code re-renders the entry page with what was typed and an error', async (t) => {
    const built = await build(t);
    await startFlow(built.app);
    const browser = browserFor(built);
    const entry = await browser.get('/device/verify');
    const typed = 'WXYZ-WXYZ';
    const res = await browser.post('/device/verify', {
      _csrf: field(entry.body, '_csrf'),
      user_code: typed,
      action: 'lookup',
    });
    assert.equal(res.status, 400);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(typedValue(res.body), typed);
    assert.match(res.body, /aria-invalid="true"/);
    assert.match(res.body, /name="_csrf"/, 'the form can be submitted again');
  });

  test('what was typed is escaped when re-rendered', async (t) => {
    const built = await build(t);
    const browser = browserFor(built);
    const entry = await browser.get('/device/verify');
    const res = await browser.post('/device/verify', {
      _csrf: field(entry.body, '_csrf'),
      user_code: '"><script>x</script>',
      action: 'lookup',
    });
    assert.equal(res.status, 400);
    assert.ok(!res.body.includes('<script>x</script>'));
    assert.equal(typedValue(res.body), '&quot;&gt;&lt;script&gt;x&lt;/script&gt;');
  });

  test('GET /device/verify?code= pre-fills the entry page; without it the field is empty', async (t) => {
    const built = await build(t);
    const flow = await startFlow(built.app);
    const prefilled = await built.app.inject({ method: 'GET', url: pathOf(flow.verification_uri_complete) });
    assert.equal(prefilled.statusCode, 200);
    assert.match(String(prefilled.headers['content-type']), /^text\/html/);
    assert.equal(typedValue(prefilled.body), flow.user_code);
    const empty = await built.app.inject({ method: 'GET', url: '/device/verify' });
    assert.equal(typedValue(empty.body), '');
    const hostile = await built.app.inject({ method: 'GET', url: '/device/verify?code=%22%3E%3Cb%3E' });
    assert.equal(typedValue(hostile.body), '&quot;&gt;&lt;b&gt;');
  });

  test('a form post without the session or the CSRF token is refused with a page, not JSON', async (t) => {
    const built = await build(t);
    const flow = await startFlow(built.app);
    const noSession = await built.app.inject({
      method: 'POST',
      url: '/device/verify',
      headers: FORM_TYPE,
      payload: new URLSearchParams({ user_code: flow.user_code, action: 'lookup' }).toString(),
    });
    assert.equal(noSession.statusCode, 400);
    assert.match(String(noSession.headers['content-type']), /^text\/html/);
    const browser = browserFor(built);
    await browser.get('/device/verify');
    const badToken = await browser.post('/device/verify', {
      _csrf: 'x',
      user_code: flow.user_code,
      action: 'lookup',
    });
    assert.equal(badToken.status, 403);
  });
});

describe('operations and discovery', () => {
  test('/health', async (t) => {
    const { app } = await build(t);
    const res = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(res.statusCode, 200);
    // `status` stays; the build's version and commit came later (src/version.ts).
    const { version, commit } = buildInfo();
    assert.deepEqual(res.json(), { status: 'ok', version, commit });
  });

  test('/ready answers 200 while the database answers', async (t) => {
    const { app } = await build(t);
    const res = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().database, 'pglite');
  });

  test('/.well-known/oauth-authorization-server has the RFC 8414 fields', async (t) => {
    const { app, config } = await build(t);
    const res = await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    assert.equal(res.statusCode, 200);
    const meta = res.json();
    assert.equal(meta.issuer, config.serverUrl);
    assert.equal(meta.device_authorization_endpoint, `${config.serverUrl}/device/code`);
    assert.equal(meta.token_endpoint, `${config.serverUrl}/device/token`);
    assert.deepEqual(meta.grant_types_supported, [GRANT]);
    // No authorization endpoint of its own: RFC 8414 requires the member, and it is empty.
    assert.deepEqual(meta.response_types_supported, []);
    assert.deepEqual(meta.token_endpoint_auth_methods_supported, ['none']);
  });

  test('/openapi.json is OpenAPI 3.1 and lists the device endpoints', async (t) => {
    const { app } = await build(t);
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.match(doc.openapi, /^3\.1\./);
    assert.ok(doc.paths['/device/code']?.post, '/device/code');
    assert.ok(doc.paths['/device/token']?.post, '/device/token');
  });

  test('an unknown route answers 404 JSON', async (t) => {
    const { app } = await build(t);
    for (const [method, url] of [
      ['GET', '/nope'],
      ['POST', '/device/nope'],
      ['GET', '/device/token'],
      ['DELETE', '/device/code'],
    ] as const) {
      const res = await app.inject({ method, url });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(typeof res.json().error, 'string');
    }
  });
});

describe('bad input: a 4xx with a JSON error, never a 500', () => {
  const big = 'A'.repeat(20 * 1024);
  const cases: Array<[string, InjectOptions, number?]> = [
    ['broken JSON', { headers: JSON_TYPE, payload: '{"device_code": ' }],
    ['JSON that is not JSON', { headers: JSON_TYPE, payload: 'device_code=abc' }],
    ['a JSON array body', { headers: JSON_TYPE, payload: '[]' }],
    ['a JSON array of objects', { headers: JSON_TYPE, payload: '[{"device_code":"abc"}]' }],
    ['a JSON string body', { headers: JSON_TYPE, payload: '"abc"' }],
    ['a number device_code', { headers: JSON_TYPE, payload: '{"device_code": 12345}' }],
    ['an array device_code', { headers: JSON_TYPE, payload: '{"device_code": ["a", "b"]}' }],
    ['an object device_code', { headers: JSON_TYPE, payload: '{"device_code": {"$ne": null}}' }],
    ['a null device_code', { headers: JSON_TYPE, payload: '{"device_code": null}' }],
    ['a repeated form device_code', { headers: FORM_TYPE, payload: 'device_code=a&device_code=b' }],
    ['a text/plain body', { headers: { 'content-type': 'text/plain' }, payload: 'device_code=abc' }],
    ['an XML body', { headers: { 'content-type': 'application/xml' }, payload: '<device_code/>' }],
    ['a 20 KB JSON body', { headers: JSON_TYPE, payload: JSON.stringify({ device_code: big }) }, 413],
    ['a 20 KB form body', { headers: FORM_TYPE, payload: `device_code=${big}` }, 413],
  ];

  /** The request answers a client error with a JSON `error`. */
  async function assertClientError(t: TestContext, url: string, options: InjectOptions, status?: number) {
    const { app } = await build(t);
    const res = await app.inject({ method: 'POST', url, ...options });
    assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode}: ${res.body}`);
    if (status) assert.equal(res.statusCode, status);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json();
    assert.equal(typeof body.error, 'string');
    assert.ok(!/at .*\.ts:\d+/.test(res.body), 'no stack trace');
  }

  for (const [what, options, status] of cases) {
    test(`/device/token: ${what}`, async (t) => {
      await assertClientError(t, '/device/token', options, status);
    });
  }

  const codeCases: Array<[string, InjectOptions, number?]> = [
    ['broken JSON', { headers: JSON_TYPE, payload: '{"client_id": ' }],
    ['JSON that is not JSON', { headers: JSON_TYPE, payload: 'client_id=abc' }],
    ['a JSON array body', { headers: JSON_TYPE, payload: '[]' }],
    ['a JSON string body', { headers: JSON_TYPE, payload: '"abc"' }],
    ['a number client_id', { headers: JSON_TYPE, payload: '{"client_id": 5}' }],
    ['an array client_id', { headers: JSON_TYPE, payload: '{"client_id": ["a"]}' }],
    ['a text/plain body', { headers: { 'content-type': 'text/plain' }, payload: 'client_id=abc' }],
    ['an XML body', { headers: { 'content-type': 'application/xml' }, payload: '<client_id/>' }],
    ['a 20 KB JSON body', { headers: JSON_TYPE, payload: JSON.stringify({ client_id: big }) }, 413],
    ['a 20 KB form body', { headers: FORM_TYPE, payload: `client_id=${big}` }, 413],
  ];
  for (const [what, options, status] of codeCases) {
    test(`/device/code: ${what}`, async (t) => {
      await assertClientError(t, '/device/code', options, status);
    });
  }

  test('a malformed form post to /device/verify answers a page, not a 500', async (t) => {
    const built = await build(t);
    for (const [options, status] of [
      [{ headers: JSON_TYPE, payload: '[1,2]' }, 400],
      [{ headers: JSON_TYPE, payload: '{"user_code": ' }, 400],
      [{ headers: FORM_TYPE, payload: `user_code=${big}` }, 413],
      [{ headers: { 'content-type': 'text/plain' }, payload: 'x' }, 400],
    ] as const) {
      const res = await built.app.inject({ method: 'POST', url: '/device/verify', ...options });
      assert.equal(res.statusCode, status, `${options.payload.slice(0, 20)}: ${res.body.slice(0, 200)}`);
      assert.match(String(res.headers['content-type']), /^text\/html/);
    }
  });
});
