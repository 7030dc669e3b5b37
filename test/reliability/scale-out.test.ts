/**
 * Three server processes on one PostgreSQL behind a round-robin
 * proxy. They start together on an empty database, the real `postiz` CLI logs in with every
 * step on another instance, a poll held on one instance wakes when another handles the
 * callback, a killed instance loses no login, and purging from several instances at once is
 * harmless.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { insertFlow, postgresStore } from '../../harness/build.js';
import { CLUSTER_ORG, type Cluster, type ProxyRecord, startCluster } from '../../harness/cluster.js';
import { poll, pollUntilSettled, sleep, startFlow } from '../../harness/device.js';
import { metric } from '../../harness/observe.js';
import { assertMigrated, usePostgres, waitFor } from '../../harness/postgres.js';
import { defer } from '../../harness/processes.js';
import { approveInBrowser } from '../../harness/walker.js';
import type { Store } from '../../src/storage/store.js';
import { startCliLogin } from '../e2e/support/postiz-cli.js';

/** The gauge of polls an instance holds open right now. */
const HELD = 'postiz_cli_auth_held_polls';

let cluster: Cluster | undefined;
let databaseUrl = '';
// Registered before usePostgres's own hook, so the instances stop before their database does.
after(() => cluster?.stop());

const postgres = await usePostgres();
const skip = postgres ? false : 'no PostgreSQL available';
const WAIT = 15;

/** The cluster started by the first test (the others need it). */
function running(): Cluster {
  assert.ok(cluster, 'the cluster did not start (see the first test)');
  return cluster;
}

/**
 * Send `send` (a poll routed to the instance at `url`) and resolve once that instance holds
 * it: its held-polls gauge has gone up by one. What happens next (a callback elsewhere, a
 * kill) then finds the poll held, however slow the machine is.
 */
async function pollHeldBy<T>(url: string, send: () => Promise<T>): Promise<{ answer: Promise<T> }> {
  const before = await metric(url, HELD);
  const answer = send();
  answer.catch(() => {});
  await waitFor(async () => (await metric(url, HELD)) === before + 1, { timeoutMs: 10_000, intervalMs: 20 });
  return { answer };
}

/** The proxy's records from `from` on, for `path` (and `method`). */
function records(from: number, path: string, method?: string): ProxyRecord[] {
  return running()
    .proxy.log.slice(from)
    .filter((r) => r.path === path && (!method || r.method === method));
}

test('three instances started together on an empty database all become ready', {
  skip,
  timeout: 120_000,
}, async (t) => {
  databaseUrl = await postgres!.createDatabase();
  const started = Date.now();
  // Purge every second, so all three purge at once throughout this file.
  cluster = await startCluster({
    instances: 3,
    databaseUrl,
    env: { PURGE_INTERVAL_SECONDS: '1', POLL_WAIT_SECONDS: '10' },
  });
  t.diagnostic(`3 instances ready in ${Date.now() - started} ms`);

  await assertMigrated(databaseUrl);
  for (const instance of cluster.instances) {
    assert.equal(instance.stderr(), '', `instance ${instance.index} wrote to stderr`);
    assert.doesNotMatch(instance.stdout(), /"level":(50|60)/, `instance ${instance.index} logged an error`);
  }
});

test('the real postiz CLI logs in with each step on another instance', {
  skip,
  timeout: 90_000,
}, async (t) => {
  const { proxy, standIn, instances } = running();
  const from = proxy.log.length;
  const login = await startCliLogin(t, running().url);
  const last = await approveInBrowser(login.opened);
  assert.equal(last.status, 200, last.body.slice(0, 500));
  assert.match(last.body, /You are logged in/);

  const { code } = await login.child.waitForExit(60_000);
  assert.equal(code, 0, `${login.child.stdout()}\n${login.child.stderr()}`);
  const credentials = await login.credentials();
  assert.equal(credentials.accessToken, standIn.issuedTokens().at(-1));
  assert.equal(credentials.organizationId, CLUSTER_ORG);

  // Round robin: no two consecutive requests on one instance, and every instance took part.
  const steps = proxy.log.slice(from);
  t.diagnostic(steps.map((r) => `${r.method} ${r.path} → ${r.instance} (${r.status})`).join('\n'));
  for (let i = 1; i < steps.length; i++) assert.notEqual(steps[i]!.instance, steps[i - 1]!.instance);
  assert.deepEqual(new Set(steps.map((r) => r.instance)), new Set(instances.map((i) => i.index)));
  // The steps that depend on one another crossed instances.
  const [started] = records(from, '/device/code');
  const confirm = records(from, '/device/verify', 'POST').at(-1);
  const [callback] = records(from, '/device/callback');
  const delivered = records(from, '/device/token').find((r) => r.status === 200);
  assert.ok(started && confirm && callback && delivered);
  assert.notEqual(callback.instance, confirm.instance, 'callback on the instance that confirmed');
  assert.notEqual(delivered.instance, callback.instance, 'token delivered by the instance of the callback');
  assert.ok(steps.every((r) => r.status !== undefined && r.status < 500));
});

for (const decision of ['approve', 'deny'] as const) {
  test(`a poll held on one instance answers when another instance handles the callback (${decision})`, {
    skip,
    timeout: 60_000,
  }, async (t) => {
    const { proxy, standIn, instances } = running();
    const [held, other] = [0, 1];
    const flow = await startFlow(running().url);
    const from = proxy.log.length;
    proxy.route = (_method, path) =>
      path === '/device/token' ? held : path === '/device/callback' ? other : undefined;
    t.after(() => {
      proxy.route = undefined;
    });

    // The callback comes once the poll is held on its instance (its held-polls gauge says so).
    const { answer } = await pollHeldBy(instances[held]!.url, () =>
      poll(running().url, flow.device_code, WAIT),
    );
    const page = await approveInBrowser(flow.verification_uri_complete, decision);
    assert.equal(page.status, 200, page.body.slice(0, 500));
    const { status, body, ms } = await answer;

    const [pollRecord] = records(from, '/device/token');
    const [callback] = records(from, '/device/callback');
    assert.ok(pollRecord && callback);
    assert.equal(pollRecord.instance, held);
    assert.equal(callback.instance, other);
    // The poll was waiting when the callback arrived, and did not wait out its 15 s.
    assert.ok(pollRecord.startedAt <= callback.startedAt);
    assert.ok(ms < WAIT * 1000, `the held poll took ${ms} ms`);
    t.diagnostic(
      `held poll answered ${pollRecord.endedAt! - callback.endedAt!} ms after the callback completed (${Math.round(ms)} ms in all)`,
    );
    if (decision === 'approve') {
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.access_token, standIn.issuedTokens().at(-1));
    } else {
      assert.equal(status, 400);
      assert.equal(body.error, 'access_denied');
    }
  });
}

test('an instance killed with SIGKILL mid-flow loses no login', { skip, timeout: 60_000 }, async (t) => {
  const { proxy, standIn, instances } = running();
  const victim = instances[2]!;
  const flow = await startFlow(running().url);
  const from = proxy.log.length;
  proxy.route = (_method, path) => (path === '/device/token' && !proxy.down.has(2) ? 2 : undefined);
  // Killed once the poll is held there (its held-polls gauge says so).
  const { answer: held } = await pollHeldBy(victim.url, () =>
    poll(running().url, flow.device_code, WAIT).catch((err: Error) => err),
  );
  proxy.route = undefined;
  const { signal } = await victim.kill('SIGKILL');
  assert.equal(signal, 'SIGKILL');

  // The poll held by the dead instance fails at the proxy (the CLI ignores such answers and polls again).
  const lost = await held;
  assert.ok(!(lost instanceof Error), String(lost));
  assert.equal(lost.status, 502, lost.text);
  const page = await approveInBrowser(flow.verification_uri_complete);
  assert.equal(page.status, 200, page.body.slice(0, 500));
  await sleep(flow.interval * 1000);
  const answer = await pollUntilSettled(running().url, flow.device_code);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.access_token, standIn.issuedTokens().at(-1));
  const [heldRecord, ...afterwards] = proxy.log.slice(from);
  assert.equal(heldRecord?.instance, 2);
  assert.ok(afterwards.every((r) => r.instance !== 2 && r.status !== undefined && r.status < 500));
  t.diagnostic(`${afterwards.length} requests after the kill, none to the dead instance`);
});

test('purging from several instances at once: no errors, each expired flow reported once', {
  skip,
  timeout: 60_000,
}, async (t) => {
  const stores: Store[] = [];
  for (let i = 0; i < 3; i++) {
    const store = await postgresStore(databaseUrl);
    defer(t, () => store.close());
    stores.push(store);
  }
  const now = Date.now();
  const makeFlow = (expiresAt: number) => ({
    flowId: randomBytes(12).toString('base64url'),
    deviceCodeHash: randomBytes(32),
    userCodeHash: randomBytes(32),
    publicKey: randomBytes(32),
    clientIp: '127.0.0.1',
    userAgent: 'purge-test',
    intervalSeconds: 5,
    createdAt: new Date(expiresAt - 900_000),
    expiresAt: new Date(expiresAt),
    holder: '127.0.0.1',
  });
  for (let round = 0; round < 3; round++) {
    // Expired a minute ago: the instances' own timers keep expired flows an hour, so only this test purges these.
    const expired = Array.from({ length: 200 }, () => makeFlow(now - 60_000));
    const live = Array.from({ length: 20 }, () => makeFlow(now + 600_000));
    await Promise.all([...expired, ...live].map((f, i) => insertFlow(stores[i % 3]!, f)));

    const results = await Promise.all(
      stores.map((s) => s.purge(new Date(now), new Date(now), new Date(now - 3_600_000))),
    );
    const reported = results.flat().map((f) => f.flowId);
    t.diagnostic(`round ${round}: purged ${results.map((r) => r.length).join(' + ')}`);
    assert.equal(reported.length, new Set(reported).size, 'a flow was reported twice');
    assert.deepEqual(new Set(reported), new Set(expired.map((f) => f.flowId)));
    assert.ok(results.flat().every((f) => f.status === 'pending'));
    for (const f of live) assert.ok(await stores[0]!.findByFlowId(f.flowId));
  }
  // The instances purged every second all along: none of them logged a failure.
  for (const instance of running().instances) {
    assert.doesNotMatch(instance.stdout(), /purge failed/, `instance ${instance.index}`);
  }
});
