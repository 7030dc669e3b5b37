/**
 * On SIGTERM or SIGINT a real server process answers its held polls at
 * once (`authorization_pending`), stops accepting connections, lets an in-flight request
 * finish, and exits 0 within SHUTDOWN_TIMEOUT_MS (10 s), with no client seeing a reset.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, test } from 'node:test';
import { type Cluster, startCluster } from '../../harness/cluster.js';
import { poll, sleep, startFlow } from '../../harness/device.js';
import { usePostgres, waitFor } from '../../harness/postgres.js';
import { walkToCallback } from '../../harness/walker.js';

let cluster: Cluster | undefined;
// Registered before usePostgres's own hook, so the instances stop before their database does.
after(() => cluster?.stop());
const postgres = await usePostgres();
/** Longer than the held polls take to answer, so the callback is still in flight meanwhile. */
const UPSTREAM_TIMEOUT_MS = 4000;

/** One instance per signal, on PostgreSQL when there is one (else each on its own PGlite). */
async function running(): Promise<Cluster> {
  cluster ??= await startCluster({
    instances: 2,
    ...(postgres ? { databaseUrl: await postgres.createDatabase() } : {}),
    env: {
      SHUTDOWN_TIMEOUT_MS: '10000',
      POLL_WAIT_SECONDS: '20',
      UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      LOG_LEVEL: 'info',
    },
  });
  return cluster;
}

/** Resolves with the error code of a fresh connection to `url`, or 'connected'. */
function connect(url: string): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get(`${url}/health`, { agent: false }, (response) => {
      response.resume();
      resolve('connected');
    });
    request.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

for (const [index, signal] of [
  [0, 'SIGTERM'],
  [1, 'SIGINT'],
] as const) {
  test(`${signal}: held polls answer at once, the in-flight request finishes, exit 0`, {
    timeout: 120_000,
  }, async (t) => {
    const c = await running();
    const instance = c.instances[index]!;
    c.proxy.route = () => index;
    t.after(() => {
      c.proxy.route = undefined;
    });
    const [asked, byDefault, inFlight] = [
      await startFlow(c.url),
      await startFlow(c.url),
      await startFlow(c.url),
    ];

    // Two held polls: one asks for 20 s, the other gets the default (POLL_WAIT_SECONDS=20).
    const done: string[] = [];
    const held = [poll(instance.url, asked.device_code, 20), poll(instance.url, byDefault.device_code)].map(
      (p, i) => p.finally(() => done.push(`poll ${i}`)),
    );
    // An in-flight request: a callback whose token exchange hangs until UPSTREAM_TIMEOUT_MS.
    const { walker, redirect } = await walkToCallback(inFlight.verification_uri_complete);
    c.standIn.failNext('hang');
    const exchanges = c.standInRequests.length;
    const callbackUrl = new URL(redirect.location!);
    const callback = fetch(`${instance.url}${callbackUrl.pathname}${callbackUrl.search}`, {
      headers: { cookie: walker.jar(c.url).header() },
    }).finally(() => done.push('callback'));
    await waitFor(() => c.standInRequests.slice(exchanges).includes('POST /oauth/token'));
    await sleep(200); // the polls are held by now (they were sent long before)

    const signalledAt = Date.now();
    const exited = instance.kill(signal);
    const answers = await Promise.all(held);
    const pollsAnsweredAfter = Date.now() - signalledAt;
    for (const answer of answers) {
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.body.error, 'authorization_pending');
    }
    // Not accepting any more, while the callback is still being served.
    const refused = await waitFor(
      async () => ((await connect(instance.url)) === 'ECONNREFUSED' ? 'yes' : ''),
      { timeoutMs: 2000, intervalMs: 20 },
    );
    assert.equal(refused, 'yes');
    assert.equal(instance.running(), true);

    const response = await callback;
    const page = await response.text();
    assert.equal(response.status, 502);
    assert.match(page, /Postiz had a problem/);
    assert.match(page, /name="action" value="retry"/);
    assert.deepEqual(
      done.slice(2),
      ['callback'],
      'the held polls answered before the in-flight request ended',
    );

    const { code } = await Promise.race([exited, sleep(15_000).then(() => ({ code: 'still running' }))]);
    const exitedAfter = Date.now() - signalledAt;
    t.diagnostic(
      `held polls answered ${pollsAnsweredAfter} ms after ${signal}; exited after ${exitedAfter} ms`,
    );
    // Every request was answered seconds before: nothing should be left for the timeout to cut off.
    assert.doesNotMatch(
      instance.stdout(),
      /shutdown timeout/,
      'the process waited out SHUTDOWN_TIMEOUT_MS although every request had been answered',
    );
    assert.equal(code, 0, `${instance.stdout()}\n${instance.stderr()}`);
    assert.match(instance.stdout(), /"msg":"stopped"/);
    assert.ok(exitedAfter < 10_000, `exited ${exitedAfter} ms after ${signal}`);
  });
}
