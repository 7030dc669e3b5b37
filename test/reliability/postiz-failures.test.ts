/**
 * Postiz failing the token exchange (5xx, hanging, malformed JSON, no
 * access_token) leads to a page that says Postiz had a problem and offers to try again; the
 * flow stays pending, and trying again from that page once Postiz is back completes the login.
 * `invalid_client` (a misconfigured server) is logged for the operator with a clear hint.
 * In process (`inject`), against a listening Postiz stand-in that really fails.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { StandIn, StandInFault } from '../../demo/stand-in/index.js';
import {
  manualClock,
  resetStore,
  sharedPglite,
  TEST_CLIENT_SECRET,
  testConfig,
  testStandIn,
} from '../../harness/build.js';
import { field, InjectBrowser } from '../../harness/inject-browser.js';
import { buildApp } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';

const SERVER_URL = 'http://localhost:3111';
const UPSTREAM_TIMEOUT_MS = 1000;

interface Setup {
  app: FastifyInstance;
  standIn: StandIn;
  clock: ReturnType<typeof manualClock>;
  /** Every log line, parsed. */
  logs: Array<Record<string, unknown> & { level: number; msg: string }>;
  /** Every log line as written. */
  rawLogs: string[];
}

/** An app (logging to memory) wired to a listening stand-in, closed after the test; `prepare` may add hooks to the stand-in. */
async function setup(
  t: TestContext,
  prepare?: (standIn: StandIn, clock: ReturnType<typeof manualClock>) => void,
): Promise<Setup> {
  const clock = manualClock();
  const standIn = testStandIn(SERVER_URL);
  prepare?.(standIn, clock);
  const postizUrl = await standIn.listen();
  const config = testConfig({
    SERVER_URL,
    POSTIZ_FRONTEND_URL: postizUrl,
    POSTIZ_API_URL: postizUrl,
    UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
  });
  const store = await sharedPglite();
  await resetStore(store);
  const rawLogs: string[] = [];
  const logger = createLogger({
    level: 'info',
    format: 'json',
    destination: { write: (line: string) => rawLogs.push(line) },
  });
  const { app } = await buildApp(config, { store, now: clock.now, logger });
  t.after(async () => {
    await app.close();
    await standIn.close();
  });
  const setupResult: Setup = {
    app,
    standIn,
    clock,
    rawLogs,
    get logs() {
      return rawLogs.map((line) => JSON.parse(line));
    },
  };
  return setupResult;
}

/** Path and query of an absolute URL on this server (what `inject` takes). */
const local = (url: string) => {
  const u = new URL(url, SERVER_URL);
  return `${u.pathname}${u.search}`;
};

/** Postiz's consent page: approve, and return where Postiz sends the browser back (our callback). */
async function approveAtPostiz(s: Setup, authorizeUrl: string): Promise<string> {
  const back = await s.standIn.decide(authorizeUrl, 'approve');
  assert.match(back.href, /^http:\/\/localhost:3111\/device\/callback\?code=/);
  return local(back.href);
}

/** Start a flow and walk the browser to Postiz's redirect back to us. */
async function startLogin(
  s: Setup,
): Promise<{ deviceCode: string; browser: InjectBrowser; callback: string }> {
  const started = await s.app.inject({ method: 'POST', url: '/device/code' });
  const { device_code: deviceCode, user_code: userCode } = started.json();
  const browser = new InjectBrowser(s.app, SERVER_URL);
  const entry = await browser.get(`/device/verify?code=${userCode}`);
  const confirm = await browser.post('/device/verify', {
    _csrf: field(entry.body, '_csrf'),
    user_code: userCode,
    action: 'lookup',
  });
  const toPostiz = await browser.post('/device/verify', {
    _csrf: field(confirm.body, '_csrf'),
    user_code: field(confirm.body, 'user_code'),
    action: 'confirm',
  });
  assert.equal(toPostiz.status, 303, toPostiz.body);
  return { deviceCode, browser, callback: await approveAtPostiz(s, toPostiz.location!) };
}

/** One poll, as the postiz CLI sends it. */
async function poll(s: Setup, deviceCode: string): Promise<{ status: number; body: Record<string, string> }> {
  const response = await s.app.inject({
    method: 'POST',
    url: '/device/token',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ device_code: deviceCode }),
  });
  return { status: response.statusCode, body: response.json() };
}

/**
 * The whole story for one fault: the callback meets it, the page offers a retry, the flow is
 * still pending, and the retry (Postiz fine again) logs in. Returns the failure page and how
 * long the failing callback took.
 */
async function failThenRetry(
  t: TestContext,
  s: Setup,
  fault: StandInFault,
  heading: RegExp,
): Promise<{ page: string; ms: number }> {
  const { deviceCode, browser, callback } = await startLogin(s);
  s.standIn.failNext(fault);
  const started = performance.now();
  const failed = await browser.get(callback);
  const ms = performance.now() - started;
  t.diagnostic(`the callback answered after ${Math.round(ms)} ms`);
  assert.equal(failed.status, 502);
  assert.match(failed.body, heading);
  assert.match(failed.body, /<button type="submit" name="action" value="retry"/);

  // The CLI keeps waiting.
  const pending = await poll(s, deviceCode);
  assert.equal(pending.status, 400);
  assert.equal(pending.body.error, 'authorization_pending');

  // "Try again": back to Postiz without retyping the code, and this time it works.
  const retried = await browser.post('/device/verify', {
    _csrf: field(failed.body, '_csrf'),
    flow: field(failed.body, 'flow'),
    action: 'retry',
  });
  assert.equal(retried.status, 303, retried.body);
  const done = await browser.get(await approveAtPostiz(s, retried.location!));
  assert.equal(done.status, 200, done.body);
  assert.match(done.body, /You are logged in/);

  s.clock.advance(6000);
  const delivered = await poll(s, deviceCode);
  assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
  assert.equal(delivered.body.access_token, s.standIn.issuedTokens().at(-1));
  return { page: failed.body, ms };
}

for (const fault of ['server-error', 'hang', 'malformed-json', 'no-access-token'] as const) {
  test(`Postiz ${fault}: a "Postiz had a problem" page with a retry; the flow stays pending; the retry logs in`, async (t) => {
    const s = await setup(t);
    const { ms } = await failThenRetry(t, s, fault, /Postiz had a problem/);
    // A hanging Postiz must not hang the page: it answers once UPSTREAM_TIMEOUT_MS is up (issue: within ~15 s).
    if (fault === 'hang') assert.ok(ms < 15_000, `the callback took ${ms} ms`);
    const failed = s.logs.find((l) => l.event === 'flow.failed');
    assert.equal(failed?.level, 40);
    assert.equal(failed?.reason, 'unavailable');
  });
}

test('Postiz invalid_client: a page, and an error-level log line naming POSTIZ_OAUTH_CLIENT_SECRET', async (t) => {
  const s = await setup(t);
  const { page } = await failThenRetry(t, s, 'invalid-client', /This server is not set up correctly/);
  assert.doesNotMatch(page, /invalid_client|POSTIZ_OAUTH/, 'operator details shown to the user');
  const errors = s.logs.filter((l) => l.level >= 50);
  assert.equal(errors.length, 1, s.rawLogs.join(''));
  assert.match(errors[0]!.msg, /POSTIZ_OAUTH_CLIENT_SECRET/);
  assert.equal(errors[0]!.event, 'flow.failed');
  assert.ok(!s.rawLogs.join('').includes(TEST_CLIENT_SECRET), 'the client secret reached the log');
});

test('Postiz answering only after the flow expired: the page and the device agree', async (t) => {
  let slow = false;
  const s = await setup(t, (standIn, clock) =>
    standIn.app.addHook('preHandler', async (request) => {
      // The exchange takes so long that the flow (900 s by default) expires meanwhile.
      if (slow && request.url.startsWith('/oauth/token')) clock.advance(901_000);
    }),
  );
  const { deviceCode, browser, callback } = await startLogin(s);
  slow = true;
  const page = await browser.get(callback);
  const answer = await poll(s, deviceCode);
  t.diagnostic(`callback page: ${page.status}; poll: ${answer.status} ${answer.body.error ?? 'token'}`);
  // Telling the user "You are logged in" while the device is told `expired_token` strands both.
  if (/You are logged in/.test(page.body))
    assert.equal(
      answer.status,
      200,
      `the page said "You are logged in", the device got ${answer.body.error}`,
    );
  else assert.equal(answer.body.error, 'expired_token');
});
