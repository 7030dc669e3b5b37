/**
 * A guarantee of docs/security.md: nothing leaks. The debug log of whole flows (approved, failed and retried,
 * denied, cancelled, attacked) holds no secret; a hostile or broken Postiz never gets its
 * error text onto a page nor the client secret out of us; bodies are size-limited.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import {
  build,
  manualClock,
  resetStore,
  sharedPglite,
  TEST_CLIENT_ID,
  TEST_CLIENT_SECRET,
  testConfig,
  testStandIn,
} from '../../harness/build.js';
import {
  bindingOf,
  consentAtPostiz,
  enterCode,
  field,
  InjectBrowser,
  pathOf,
  poll,
  pressOnConfirmation,
  startFlow,
  walkToCallback,
} from '../../harness/inject-browser.js';
import { buildApp } from '../../src/app.js';
import { codeVerifier } from '../../src/device-flow/pkce.js';
import { createLogger } from '../../src/logger.js';
import { textForms } from './helpers.js';

const SERVER_URL = 'http://localhost:3111';

/** An app logging at debug level into `lines`, with a listening stand-in (or `apiUrl` for the token exchange). */
async function buildLogged(t: TestContext, env: Record<string, string> = {}) {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    destination: { write: (chunk: string) => void lines.push(...chunk.split('\n').filter(Boolean)) },
  });
  const standIn = testStandIn(SERVER_URL);
  const postizUrl = await standIn.listen();
  t.after(() => standIn.close());
  const config = testConfig({
    POSTIZ_FRONTEND_URL: postizUrl,
    POSTIZ_API_URL: postizUrl,
    LOG_LEVEL: 'debug',
    ...env,
  });
  const store = await sharedPglite();
  await resetStore(store);
  const clock = manualClock();
  const built = await buildApp(config, { store, now: clock.now, logger });
  t.after(() => built.app.close());
  return { ...built, standIn, clock, lines };
}

/** A secret's forms that must not appear in a log line. */
function secretForms(secret: string): string[] {
  return [...textForms(secret), encodeURIComponent(secret)];
}

/** Every (secret name, line number) where a secret shows in the log. */
function leaks(lines: string[], secrets: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [name, secret] of secrets) {
    const forms = secretForms(secret);
    lines.forEach((line, i) => {
      if (forms.some((form) => line.includes(form)))
        found.push(`${name} in log line ${i + 1}: ${line.slice(0, 300)}`);
    });
  }
  return found;
}

/** Record every cookie value of a browser as a secret. */
function rememberCookies(secrets: Map<string, string>, browser: InjectBrowser): void {
  for (const [name, value] of browser.cookies) secrets.set(`cookie ${name}=${value.slice(0, 6)}…`, value);
}

test('the debug log of whole flows (approved, failed, denied, cancelled, attacked) holds no secret', async (t) => {
  const { app, standIn, clock, lines } = await buildLogged(t);
  const secrets = new Map<string, string>([['client secret', TEST_CLIENT_SECRET]]);
  const remember = (label: string, walked: Awaited<ReturnType<typeof walkToCallback>>) => {
    secrets.set(`${label}: device code`, walked.started.device_code);
    secrets.set(`${label}: user code`, walked.started.user_code);
    secrets.set(`${label}: user code (plain)`, walked.started.user_code.replace('-', ''));
    secrets.set(`${label}: state`, walked.state);
    secrets.set(`${label}: PKCE verifier`, codeVerifier(bindingOf(walked.browser), walked.state));
    if (walked.code) secrets.set(`${label}: Postiz code`, walked.code);
    rememberCookies(secrets, walked.browser);
  };

  // 1. Approved, with a wrong code typed first, fast polls, then an attacker's callback and a replay.
  const browser = new InjectBrowser(app);
  const entry = await browser.get('/device/verify');
  secrets.set('CSRF token', field(entry.body, '_csrf'));
  await browser.post('/device/verify', {
    _csrf: field(entry.body, '_csrf'),
    user_code: 'BBBB-BBBB',
    action: 'lookup',
  });
  const approved = await walkToCallback(app, 'approve', browser);
  remember('approved', approved);
  await poll(app, approved.started.device_code);
  await poll(app, approved.started.device_code); // slow_down
  assert.equal((await browser.get(pathOf(approved.callbackUrl))).status, 200);
  await new InjectBrowser(app).get(pathOf(approved.callbackUrl)); // wrong browser (its code is burned)
  await browser.get(pathOf(approved.callbackUrl)); // replay
  clock.advance(10_000);
  const delivered = await poll(app, approved.started.device_code);
  assert.equal(delivered.status, 200);
  await poll(app, approved.started.device_code); // already used

  // 2. The exchange fails (several ways), then a retry succeeds.
  const failing = await walkToCallback(app);
  remember('failing', failing);
  standIn.failNext('server-error');
  let page = await failing.browser.get(pathOf(failing.callbackUrl));
  assert.equal(page.status, 502);
  for (const fault of ['invalid-client', 'malformed-json', 'no-access-token', 'server-error'] as const) {
    const retried = await failing.browser.post('/device/verify', {
      _csrf: field(page.body, '_csrf'),
      flow: field(page.body, 'flow'),
      action: 'retry',
    });
    assert.ok(retried.location, `retry after ${fault}`);
    const state = new URL(retried.location).searchParams.get('state')!;
    secrets.set(`retry ${fault}: state`, state);
    secrets.set(`retry ${fault}: PKCE verifier`, codeVerifier(bindingOf(failing.browser), state));
    const callbackUrl = await consentAtPostiz(retried.location, 'approve');
    secrets.set(`retry ${fault}: Postiz code`, callbackUrl.searchParams.get('code')!);
    standIn.failNext(fault);
    page = await failing.browser.get(pathOf(callbackUrl));
    assert.equal(page.status, 502, fault);
  }
  const lastTry = await failing.browser.post('/device/verify', {
    _csrf: field(page.body, '_csrf'),
    flow: field(page.body, 'flow'),
    action: 'retry',
  });
  const finalCallback = await consentAtPostiz(lastTry.location!, 'approve');
  secrets.set('final retry: state', finalCallback.searchParams.get('state')!);
  secrets.set('final retry: Postiz code', finalCallback.searchParams.get('code')!);
  assert.equal((await failing.browser.get(pathOf(finalCallback))).status, 200);
  clock.advance(10_000);
  assert.equal((await poll(app, failing.started.device_code)).status, 200);
  rememberCookies(secrets, failing.browser);

  // 3. Denied at Postiz; 4. cancelled on our page; 5. a forged form post.
  const denied = await walkToCallback(app, 'deny');
  remember('denied', denied);
  assert.equal((await denied.browser.get(pathOf(denied.callbackUrl))).status, 200);
  clock.advance(10_000);
  await poll(app, denied.started.device_code);
  const cancelled = await startFlow(app);
  secrets.set('cancelled: device code', cancelled.device_code);
  secrets.set('cancelled: user code', cancelled.user_code);
  const cancelBrowser = new InjectBrowser(app);
  const confirmation = await enterCode(cancelBrowser, cancelled.user_code);
  await pressOnConfirmation(cancelBrowser, confirmation, 'deny');
  rememberCookies(secrets, cancelBrowser);
  await cancelBrowser.post(
    '/device/verify',
    { _csrf: 'forged', user_code: cancelled.user_code, action: 'confirm' },
    { origin: 'https://evil.example' },
  );
  // An RFC client's form poll, with a client_id.
  await app.inject({
    method: 'POST',
    url: '/device/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: cancelled.device_code,
      client_id: 'cli',
    }).toString(),
  });
  for (const token of standIn.issuedTokens()) secrets.set(`access token ${token.slice(0, 8)}…`, token);
  assert.ok(standIn.issuedTokens().length >= 2);

  const text = lines.join('\n');
  assert.ok(lines.length > 30, `the log is not empty (${lines.length} lines)`);
  for (const event of [
    'flow.started',
    'flow.approved',
    'flow.delivered',
    'flow.failed',
    'flow.denied',
    'flow.cancelled',
  ]) {
    assert.ok(text.includes(event), `the log records ${event}, so the search is meaningful`);
  }
  assert.deepEqual(leaks(lines, secrets), []);
});

/** A stand-in for a broken or hostile Postiz API: answers `/oauth/token` from a queue, records requests. */
async function hostileApi(t: TestContext) {
  const answers: ((res: ServerResponse) => void)[] = [];
  const seen: { url: string; body: string; host: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body, host: req.headers.host ?? '' });
      const next = answers.shift();
      if (next) next(res);
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, answers, seen };
}

const MARKER = 'UPSTREAM-MARKER';

test('a broken or hostile Postiz never gets its error text onto a page', async (t) => {
  const api = await hostileApi(t);
  const { app } = await build(t, { env: { POSTIZ_API_URL: api.url } });
  const json = (status: number, body: unknown) => (res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const cases: [string, (res: ServerResponse) => void][] = [
    [
      '500 HTML',
      (res) => res.writeHead(500, { 'content-type': 'text/html' }).end(`<h1>${MARKER} at /srv/app.js:1</h1>`),
    ],
    [
      '400 invalid_grant',
      json(400, { error: 'invalid_grant', error_description: `${MARKER} <script>x()</script>` }),
    ],
    ['400 other', json(400, { error: 'weird', message: `${MARKER} bad`, statusCode: 400 })],
    ['401 invalid_client', json(401, { error: 'invalid_client', error_description: MARKER })],
    ['201 not JSON', (res) => res.writeHead(201, { 'content-type': 'application/json' }).end(`${MARKER} {`)],
    ['200 without a token', json(200, { message: MARKER })],
    ['429', json(429, { message: MARKER })],
  ];
  const walked = await walkToCallback(app);
  let callbackUrl = walked.callbackUrl;
  for (const [name, respond] of cases) {
    api.answers.push(respond);
    const page = await walked.browser.get(pathOf(callbackUrl));
    assert.ok(page.status >= 400, `${name}: ${page.status}`);
    assert.match(String(page.headers['content-type']), /^text\/html/, name);
    assert.ok(!page.body.includes(MARKER), `${name}: the upstream text is not on the page`);
    assert.ok(!page.body.includes('<script>x()'), name);
    const retried = await walked.browser.post('/device/verify', {
      _csrf: field(page.body, '_csrf'),
      flow: field(page.body, 'flow'),
      action: 'retry',
    });
    assert.ok(retried.location, `${name}: the user can retry`);
    callbackUrl = await consentAtPostiz(retried.location, 'approve');
  }
});

test('a redirect from the token endpoint never carries the client secret or the code elsewhere', async (t) => {
  const elsewhere = await hostileApi(t);
  const api = await hostileApi(t);
  const { app } = await build(t, { env: { POSTIZ_API_URL: api.url, UPSTREAM_TIMEOUT_MS: '2000' } });
  const problems: string[] = [];
  for (const status of [307, 308, 302, 301]) {
    const walked = await walkToCallback(app);
    const before = elsewhere.seen.length;
    api.answers.push((res) => res.writeHead(status, { location: `${elsewhere.url}/steal` }).end());
    elsewhere.answers.push((res) =>
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"access_token":"pos_planted"}'),
    );
    const page = await walked.browser.get(pathOf(walked.callbackUrl));
    for (const request of elsewhere.seen.slice(before)) {
      if (request.body.includes(TEST_CLIENT_SECRET))
        problems.push(`${status}: the client secret was sent to the redirect target`);
      if (walked.code && request.body.includes(walked.code))
        problems.push(`${status}: the code was sent to the redirect target`);
    }
    if (elsewhere.seen.length > before) problems.push(`${status}: the redirect was followed`);
    if (page.status < 400) problems.push(`${status}: a redirect was taken for a token (page ${page.status})`);
    elsewhere.answers.length = 0;
  }
  assert.deepEqual(problems, []);
});

test('an upstream error that echoes our request puts neither the client secret nor the code in the log', async (t) => {
  const api = await hostileApi(t);
  const { app, lines } = await buildLogged(t, { POSTIZ_API_URL: api.url });
  const echo = (status: number) => (res: ServerResponse) =>
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(JSON.stringify({ message: 'Bad request', received: JSON.parse(api.seen.at(-1)!.body) }));
  const walked = await walkToCallback(app);
  const secrets = new Map<string, string>([['client secret', TEST_CLIENT_SECRET]]);
  let callbackUrl = walked.callbackUrl;
  for (const status of [400, 500, 422]) {
    secrets.set(`Postiz code (${status})`, callbackUrl.searchParams.get('code')!);
    secrets.set(
      `PKCE verifier (${status})`,
      codeVerifier(bindingOf(walked.browser), callbackUrl.searchParams.get('state')!),
    );
    api.answers.push(echo(status));
    const page = await walked.browser.get(pathOf(callbackUrl));
    assert.ok(page.status >= 400);
    assert.ok(!page.body.includes(TEST_CLIENT_SECRET));
    const retried = await walked.browser.post('/device/verify', {
      _csrf: field(page.body, '_csrf'),
      flow: field(page.body, 'flow'),
      action: 'retry',
    });
    callbackUrl = await consentAtPostiz(retried.location!, 'approve');
  }
  assert.ok(
    lines.some((line) => line.includes('flow.failed')),
    'the failures are logged',
  );
  assert.deepEqual(leaks(lines, secrets), []);
});

test('request bodies over 16 KB are refused with 413 on every endpoint', async (t) => {
  const { app } = await build(t);
  const big = 'x'.repeat(17 * 1024);
  const browser = new InjectBrowser(app);
  const csrf = field((await browser.get('/device/verify')).body, '_csrf');
  const cases: [string, string, string, string][] = [
    ['/device/code', 'application/json', JSON.stringify({ client_id: big }), 'json'],
    ['/device/code', 'application/x-www-form-urlencoded', `client_id=${big}`, 'json'],
    ['/device/token', 'application/json', JSON.stringify({ device_code: big }), 'json'],
    ['/device/token', 'application/x-www-form-urlencoded', `device_code=${big}`, 'json'],
    ['/device/verify', 'application/x-www-form-urlencoded', `_csrf=${csrf}&user_code=${big}`, 'html'],
  ];
  const wrong: string[] = [];
  for (const [url, type, payload, kind] of cases) {
    const res = await app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': type, cookie: browser.cookieHeader(), origin: SERVER_URL },
      payload,
    });
    const contentType = String(res.headers['content-type']);
    if (res.statusCode !== 413) wrong.push(`${url} (${type}): ${res.statusCode}`);
    if (kind === 'json' && !contentType.startsWith('application/json')) wrong.push(`${url}: not JSON`);
    if (kind === 'html' && !contentType.startsWith('text/html')) wrong.push(`${url}: not a page`);
  }
  assert.deepEqual(wrong, []);
  assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
});

test('a Postiz that never answers cannot hold the callback: the exchange times out to a retryable page', {
  timeout: 60_000,
}, async (t) => {
  const { app, standIn } = await build(t, { env: { UPSTREAM_TIMEOUT_MS: '200' } });
  const walked = await walkToCallback(app);
  standIn.failNext('hang');
  const page = await walked.browser.get(pathOf(walked.callbackUrl));
  assert.equal(page.status, 502);
  assert.equal(field(page.body, 'flow').length > 0, true, 'the user may retry');
});

test('nothing the user sends picks a redirect target', async (t) => {
  const { app, config } = await build(t, { env: { TRUST_PROXY: 'true' } });
  const hostile = {
    host: 'evil.example',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-proto': 'https',
    referer: 'https://evil.example/',
  };
  const browser = new InjectBrowser(app, SERVER_URL, hostile);
  const started = await startFlow(app);
  for (const url of [
    '/device/verify?next=https://evil.example&redirect_uri=https://evil.example&return_to=//evil.example',
    '/device/callback?redirect_uri=https://evil.example&next=//evil.example',
  ]) {
    assert.equal((await browser.get(url)).location, undefined, url);
  }
  const confirmation = await enterCode(browser, started.user_code);
  const redirect = await browser.post('/device/verify', {
    _csrf: field(confirmation.body, '_csrf'),
    user_code: started.user_code,
    action: 'confirm',
    redirect_uri: 'https://evil.example/cb',
    next: 'https://evil.example',
    client_id: 'pca_evil',
  });
  assert.ok(redirect.location);
  const target = new URL(redirect.location);
  assert.equal(`${target.origin}${target.pathname}`, `${config.postizFrontendUrl}/oauth/authorize`);
  assert.equal(target.searchParams.get('redirect_uri'), `${SERVER_URL}/device/callback`);
  assert.equal(target.searchParams.get('client_id'), TEST_CLIENT_ID);
  assert.ok(!redirect.location.includes('evil'), redirect.location);
});

test("a client's X-Request-Id reaches the log only when it is a short token", async (t) => {
  const { app, lines } = await buildLogged(t);
  const sent = [
    'trace-42.abc:1',
    `${'a'.repeat(300)}`,
    'id with spaces',
    '<script>x</script>',
    'ok\nforged line',
  ];
  for (const id of sent) {
    await app.inject({ method: 'POST', url: '/device/code', headers: { 'x-request-id': id } });
  }
  const ids = lines.map((line) => JSON.parse(line) as { reqId?: string }).map((l) => l.reqId);
  assert.ok(ids.includes('trace-42.abc:1'), 'a short token is kept, so logs join up with the proxy');
  for (const id of sent.slice(1)) assert.ok(!ids.includes(id), `refused: ${JSON.stringify(id.slice(0, 20))}`);
  for (const line of lines) assert.ok(!line.includes('a'.repeat(100)) && !line.includes('<script>'), line);
});
