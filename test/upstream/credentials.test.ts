/**
 * Wrong OAuth credentials are found before a user's login (src/upstream/credentials.ts): a junk
 * code exchanged with the configured client id and secret gets 401 `invalid_client` from Postiz
 * (here its stand-in) when they are wrong, 400 `invalid_grant` when they are right. The state
 * is logged once per change, reported by /ready and a metric, flipped at once by a real login
 * that meets `invalid_client`, and the check touches no flow and no code sighting.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import {
  build,
  sharedPglite,
  TEST_CLIENT_ID,
  TEST_CLIENT_SECRET,
  testConfig,
  testStandIn,
} from '../../harness/build.js';
import { pathOf, walkToCallback } from '../../harness/inject-browser.js';
import { captureLog, metric, metricReaches } from '../../harness/observe.js';
import { startServer } from '../../src/server.js';
import type { Store } from '../../src/storage/store.js';

const WRONG_SECRET = 'pcs_wrong000000000000000000000000000000000000000000';
const VALID = 'postiz_cli_auth_postiz_credentials_valid';

/** /ready's `postiz`, and that /ready stays 200. */
async function readyPostiz(built: Awaited<ReturnType<typeof build>>): Promise<string> {
  const ready = await built.app.inject({ method: 'GET', url: '/ready' });
  assert.equal(ready.statusCode, 200, ready.body);
  return ready.json().postiz;
}

/** The log lines about the credentials. */
const credentialLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l.credentials);

test('a wrong client secret: one warning naming both settings (never their values), /ready says misconfigured, the metric 0', async (t) => {
  const { logger, lines, raw } = captureLog();
  const built = await build(t, { env: { POSTIZ_OAUTH_CLIENT_SECRET: WRONG_SECRET }, logger });
  assert.ok(Number.isNaN(await metric(built.app, VALID)), 'NaN before the first check');
  await built.probe!.check();
  assert.equal(await built.credentials.check(), 'refused');
  assert.equal(await built.credentials.check(), 'refused');

  const said = credentialLines(lines);
  assert.equal(said.length, 1, 'logged once per change of state');
  assert.equal(said[0]!.level, 40);
  assert.match(String(said[0]!.msg), /POSTIZ_OAUTH_CLIENT_ID/);
  assert.match(String(said[0]!.msg), /POSTIZ_OAUTH_CLIENT_SECRET/);
  const log = raw.join('');
  assert.ok(!log.includes(WRONG_SECRET), 'the secret reached the log');
  assert.ok(!log.includes(TEST_CLIENT_ID), 'the client id reached the log');

  assert.equal(await readyPostiz(built), 'misconfigured');
  assert.equal(await metric(built.app, VALID), 0);
});

test('refused, then accepted at the next check: back to reachable and 1, each change logged once', async (t) => {
  const { logger, lines } = captureLog();
  const built = await build(t, { logger });
  await built.probe!.check();
  // Postiz refuses the app (deleted, its secret rotated), then takes it again.
  built.standIn.failNext('invalid-client');
  assert.equal(await built.credentials.check(), 'refused');
  assert.equal(await readyPostiz(built), 'misconfigured');
  assert.equal(await metric(built.app, VALID), 0);
  assert.equal(await built.credentials.check(), 'accepted');
  assert.equal(await built.credentials.check(), 'accepted');
  assert.equal(await readyPostiz(built), 'reachable');
  assert.equal(await metric(built.app, VALID), 1);
  assert.deepEqual(
    credentialLines(lines).map((l) => [l.level, l.msg]),
    [
      [
        40,
        "Postiz refuses this server's OAuth credentials: check POSTIZ_OAUTH_CLIENT_ID and POSTIZ_OAUTH_CLIENT_SECRET, and that the app still exists in Postiz. Every login fails at the code exchange until they are right.",
      ],
      [
        30,
        "Postiz accepts this server's OAuth credentials again (POSTIZ_OAUTH_CLIENT_ID, POSTIZ_OAUTH_CLIENT_SECRET)",
      ],
    ],
  );
});

test('a login that meets invalid_client flips the state at once; its page says only what happened', async (t) => {
  const built = await build(t);
  await built.probe!.check();
  assert.equal(built.credentials.state(), 'unknown');
  const walked = await walkToCallback(built.app);
  built.standIn.failNext('invalid-client');
  const page = await walked.browser.get(pathOf(walked.callbackUrl));
  assert.equal(page.status, 502);
  assert.match(page.body, /Postiz refused this login server’s own credentials/);
  assert.doesNotMatch(page.body, /operator|has been told/i, 'it claims someone was told');
  assert.equal(built.credentials.state(), 'refused');
  assert.equal(await readyPostiz(built), 'misconfigured');
  assert.equal(await metric(built.app, VALID), 0);
});

test('the check sends a fresh junk code shaped like a Postiz code, never logged, and touches no flow and no code sighting', async (t) => {
  // A token endpoint that records what it is sent and answers as Postiz does for an unknown code.
  const received: Record<string, string>[] = [];
  const postiz = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', ...JSON.parse(body || '{}') });
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
    });
  });
  await new Promise<void>((resolve) => postiz.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => postiz.close(() => resolve())));
  const apiUrl = `http://127.0.0.1:${(postiz.address() as AddressInfo).port}`;

  // Every call the app makes to its store, from here on.
  const shared = await sharedPglite();
  const calls: string[] = [];
  let recording = false;
  const store = new Proxy(shared, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (recording) calls.push(String(name));
        return value.apply(target, args);
      };
    },
  }) as Store;
  const { logger, raw } = captureLog('trace');
  const built = await build(t, { env: { POSTIZ_API_URL: apiUrl }, store, logger });
  recording = true;
  assert.equal(await built.credentials.check(), 'accepted');
  assert.equal(await built.credentials.check(), 'accepted');
  recording = false;

  assert.deepEqual(calls, [], 'the check called the store');
  assert.equal(await metric(built.app, 'postiz_cli_auth_flows_started_total'), 0);
  assert.equal(received.length, 2);
  const [first, second] = received as [Record<string, string>, Record<string, string>];
  for (const sent of [first, second]) {
    assert.equal(sent.path, '/oauth/token');
    assert.equal(sent.grant_type, 'authorization_code');
    assert.equal(sent.client_id, TEST_CLIENT_ID);
    assert.equal(sent.client_secret, TEST_CLIENT_SECRET);
    assert.match(String(sent.code), /^[A-Za-z0-9]{32}$/);
    assert.ok(!raw.join('').includes(String(sent.code)), 'the junk code reached the log');
  }
  assert.notEqual(first.code, second.code, 'each check draws a new code');
});

test('a started server checks at start-up, without a login: a wrong secret is on /ready and the metric', async (t) => {
  const standIn = testStandIn('http://127.0.0.1:3111');
  const postizUrl = await standIn.listen();
  t.after(() => standIn.close());
  const { logger, lines } = captureLog();
  const server = await startServer(
    testConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      POSTIZ_API_URL: postizUrl,
      POSTIZ_FRONTEND_URL: postizUrl,
      POSTIZ_OAUTH_CLIENT_SECRET: WRONG_SECRET,
    }),
    { logger, store: await sharedPglite() },
  );
  t.after(() => server.close());
  await metricReaches(server.url, VALID, 0);
  const ready = await fetch(`${server.url}/ready`);
  assert.equal(ready.status, 200);
  assert.equal(((await ready.json()) as { postiz: string }).postiz, 'misconfigured');
  assert.equal(credentialLines(lines).length, 1);
});
