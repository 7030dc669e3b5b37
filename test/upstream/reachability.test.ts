/**
 * A Postiz that cannot be reached is named, with POSTIZ_API_URL and the cause, before a user's
 * login fails: the probe (src/upstream/reachability.ts) against a port that refuses connections,
 * a name that does not resolve, and the Postiz stand-in; /ready reports it without failing;
 * and the code exchange's own failure says the same.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build, testStandIn } from '../../harness/build.js';
import { captureLog } from '../../harness/observe.js';
import { freePort } from '../../harness/ports.js';
import { createPostizUpstream } from '../../src/upstream/postiz/profile.js';
import { createReachabilityProbe, type ProbeOptions } from '../../src/upstream/reachability.js';
import { UpstreamError } from '../../src/upstream/upstream.js';

/** A probe of Postiz's public API at `apiUrl`, as the server makes it. */
const createPostizProbe = (options: Omit<ProbeOptions, 'url' | 'where'> & { apiUrl: string }) =>
  createReachabilityProbe({
    ...options,
    url: `${options.apiUrl}/public/v1/is-connected`,
    where: `POSTIZ_API_URL (${options.apiUrl})`,
  });

test('a port that refuses connections: unreachable, logged once with POSTIZ_API_URL and ECONNREFUSED', async () => {
  const apiUrl = `http://127.0.0.1:${await freePort()}`;
  const { logger, lines } = captureLog();
  const probe = createPostizProbe({ apiUrl, timeoutMs: 2000, log: logger });
  assert.equal(probe.state(), 'unknown');
  assert.equal(await probe.check(), 'unreachable');
  assert.equal(await probe.check(), 'unreachable');
  probe.stop();
  const warnings = lines.filter((l) => l.level === 40);
  assert.equal(warnings.length, 1, JSON.stringify(lines));
  assert.match(
    String(warnings[0]!.msg),
    new RegExp(
      `^POSTIZ_API_URL \\(${apiUrl.replaceAll('.', '\\.')}\\) cannot be reached: ECONNREFUSED \\(connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+\\)\\. Logins will fail at the code exchange until it can\\.$`,
    ),
  );
});

test('a name that does not resolve: the DNS cause is named', async () => {
  const { logger, lines } = captureLog();
  const probe = createPostizProbe({ apiUrl: 'http://postiz.invalid', timeoutMs: 5000, log: logger });
  assert.equal(await probe.check(), 'unreachable');
  probe.stop();
  assert.match(
    String(lines.at(-1)?.msg),
    /cannot be reached: (ENOTFOUND|EAI_AGAIN) \(getaddrinfo .*postiz\.invalid\)/,
  );
});

test('/ready reports Postiz in its body and stays 200; the stand-in is reachable, a refused port is not', async (t) => {
  const reachable = await build(t);
  await reachable.probe!.check();
  const ok = await reachable.app.inject({ method: 'GET', url: '/ready' });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), {
    status: 'ready',
    database: 'pglite',
    notifications: 'working',
    postiz: 'reachable',
  });
  assert.match(
    (await reachable.app.inject({ method: 'GET', url: '/metrics' })).body,
    /^postiz_cli_auth_postiz_reachable 1$/m,
  );

  const refused = await build(t, { env: { POSTIZ_API_URL: `http://127.0.0.1:${await freePort()}` } });
  await refused.probe!.check();
  const still = await refused.app.inject({ method: 'GET', url: '/ready' });
  assert.equal(still.statusCode, 200);
  assert.equal(still.json().postiz, 'unreachable');
  assert.match(
    (await refused.app.inject({ method: 'GET', url: '/metrics' })).body,
    /^postiz_cli_auth_postiz_reachable 0$/m,
  );
});

test('unreachable, then reachable again: each change is logged once', async (t) => {
  const port = await freePort();
  const { logger, lines } = captureLog();
  const probe = createPostizProbe({ apiUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000, log: logger });
  t.after(() => probe.stop());
  assert.equal(await probe.check(), 'unreachable');
  // The same Postiz comes up on that port.
  const standIn = testStandIn('http://localhost:3111');
  await standIn.listen(port, '127.0.0.1');
  t.after(() => standIn.close());
  assert.equal(await probe.check(), 'reachable');
  assert.equal(await probe.check(), 'reachable');
  assert.deepEqual(
    lines.map((l) => l.msg),
    [
      `POSTIZ_API_URL (http://127.0.0.1:${port}) cannot be reached: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port}). Logins will fail at the code exchange until it can.`,
      `POSTIZ_API_URL (http://127.0.0.1:${port}) can be reached again`,
    ],
  );
});

test('a failed code exchange names POSTIZ_API_URL and the cause, not just "fetch failed"', async () => {
  const apiUrl = `http://127.0.0.1:${await freePort()}`;
  const client = createPostizUpstream({
    frontendUrl: apiUrl,
    apiUrl,
    clientId: 'pca_x',
    clientSecret: 'pcs_x',
    timeoutMs: 2000,
  });
  const err = await client
    .exchangeCode({ code: 'c', codeVerifier: 'v', redirectUri: 'http://localhost/device/callback' })
    .catch((e: unknown) => e);
  assert.ok(err instanceof UpstreamError);
  assert.equal(err.kind, 'unavailable');
  assert.match(
    err.detail,
    new RegExp(
      `^POSTIZ_API_URL \\(${apiUrl.replaceAll('.', '\\.')}\\) cannot be reached: ECONNREFUSED \\(connect ECONNREFUSED`,
    ),
  );
});
