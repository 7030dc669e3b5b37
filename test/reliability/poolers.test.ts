/**
 * Behind a real PgBouncer (Debian's package), in transaction and in session mode: three
 * instances starting together on an empty database all come up and migrate once; through a
 * transaction pooler the lost LISTEN is noticed (a warning naming DATABASE_DIRECT_URL, /ready,
 * metrics) and approvals still reach held polls within about a second; with
 * DATABASE_DIRECT_URL set, notifications work as on a direct connection.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type Cluster, startCluster } from '../../harness/cluster.js';
import { poll, startFlow } from '../../harness/device.js';
import { metric } from '../../harness/observe.js';
import { type PgBouncer, pgbouncerMissing, startPgBouncer } from '../../harness/pgbouncer.js';
import { assertMigrated, usePostgres, waitFor } from '../../harness/postgres.js';
import { approveInBrowser } from '../../harness/walker.js';

/** The gauge of polls an instance holds open right now. */
const HELD = 'postiz_cli_auth_held_polls';

const running: { cluster?: Cluster; bouncer?: PgBouncer }[] = [];
// Registered before usePostgres's own hook, so instances and poolers stop before their database.
after(async () => {
  for (const r of running) {
    await r.cluster?.stop();
    await r.bouncer?.stop();
  }
});

const postgres = await usePostgres();
const missing = !postgres ? 'no PostgreSQL available' : pgbouncerMissing();
// CI installs pgbouncer with PostgreSQL: there, its absence is a failure, not a skip.
const skip = missing && process.env.REQUIRE_POSTGRES !== '1' ? missing : false;

/** /ready's body on each instance, once every instance has tested its notifications. */
async function readiness(cluster: Cluster): Promise<Record<string, string>[]> {
  return waitFor<Record<string, string>[] | undefined>(
    async () => {
      const bodies = await Promise.all(
        cluster.instances.map(
          async (i) => (await (await fetch(`${i.url}/ready`)).json()) as Record<string, string>,
        ),
      );
      return bodies.every((b) => b.notifications !== 'checking') ? bodies : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 200 },
  ) as Promise<Record<string, string>[]>;
}

/** How long after an approval (through the proxy, so on another instance) a held poll got its token. */
async function approvalToToken(cluster: Cluster): Promise<number> {
  const flow = await startFlow(cluster.url);
  cluster.proxy.route = (_method, path) =>
    path === '/device/token' ? 0 : path === '/device/callback' ? 1 : undefined;
  try {
    const holder = cluster.instances[0]!;
    const before = await metric(holder.url, HELD);
    const answer = poll(cluster.url, flow.device_code, 15);
    answer.catch(() => {});
    // Approved once instance 0 holds the poll (its held-polls gauge went up), however slow the machine.
    await waitFor(async () => (await metric(holder.url, HELD)) === before + 1, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const page = await approveInBrowser(flow.verification_uri_complete);
    assert.equal(page.status, 200, page.body.slice(0, 300));
    const approvedAt = performance.now();
    const result = await answer;
    assert.equal(result.status, 200, result.text);
    assert.ok(result.body.access_token);
    return performance.now() - approvedAt;
  } finally {
    cluster.proxy.route = undefined;
  }
}

for (const mode of ['transaction', 'session'] as const) {
  test(`behind PgBouncer in ${mode} mode: three instances start together, migrate once, and deliver approvals`, {
    skip,
    timeout: 180_000,
  }, async (t) => {
    const direct = await postgres!.createDatabase();
    const bouncer = await startPgBouncer(postgres!.port, mode);
    const entry: { cluster?: Cluster; bouncer?: PgBouncer } = { bouncer };
    running.push(entry);
    const database = new URL(direct).pathname.slice(1);
    const cluster = await startCluster({
      instances: 3,
      databaseUrl: bouncer.url(database),
      env: { POLL_WAIT_SECONDS: '10', LOG_LEVEL: 'info' },
    });
    entry.cluster = cluster;
    await assertMigrated(direct);

    const ready = await readiness(cluster);
    const expected = mode === 'transaction' ? 'lost' : 'working';
    assert.deepEqual(
      ready.map((b) => b.notifications),
      [expected, expected, expected],
    );
    for (const instance of cluster.instances) {
      const warned = instance.stdout().includes('Set DATABASE_DIRECT_URL');
      assert.equal(warned, mode === 'transaction', `instance ${instance.index} warned: ${warned}`);
      const metrics = await (await fetch(`${instance.url}/metrics`)).text();
      assert.match(
        metrics,
        new RegExp(`^postiz_cli_auth_notifications_working ${mode === 'transaction' ? 0 : 1}$`, 'm'),
      );
    }

    const ms = await approvalToToken(cluster);
    t.diagnostic(`approval → token on a held poll: ${Math.round(ms)} ms`);
    // Through a transaction pooler the one-second re-check notices; else the notification does.
    assert.ok(ms < (mode === 'transaction' ? 3000 : 1000), `${Math.round(ms)} ms`);
  });
}

test('behind PgBouncer in transaction mode with DATABASE_DIRECT_URL: notifications work', {
  skip,
  timeout: 180_000,
}, async (t) => {
  const direct = await postgres!.createDatabase();
  const bouncer = await startPgBouncer(postgres!.port, 'transaction');
  const entry: { cluster?: Cluster; bouncer?: PgBouncer } = { bouncer };
  running.push(entry);
  const cluster = await startCluster({
    instances: 3,
    databaseUrl: bouncer.url(new URL(direct).pathname.slice(1)),
    env: { POLL_WAIT_SECONDS: '10', LOG_LEVEL: 'info', DATABASE_DIRECT_URL: direct },
  });
  entry.cluster = cluster;
  await assertMigrated(direct);
  assert.deepEqual(
    (await readiness(cluster)).map((b) => b.notifications),
    ['working', 'working', 'working'],
  );
  const ms = await approvalToToken(cluster);
  t.diagnostic(`approval → token on a held poll: ${Math.round(ms)} ms`);
  assert.ok(ms < 1000, `${Math.round(ms)} ms`);
});
