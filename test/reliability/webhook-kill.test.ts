/**
 * A webhook is not lost when the instance sending it dies (docs/deploy.md, "Audit trail and
 * webhooks"): two server processes on one PostgreSQL, each with WEBHOOK_URL set (the same
 * receiver, each URL marked with its instance's name so the receiver can tell who sent what).
 * A login ends; whichever instance claimed its event is SIGKILLed while the receiver holds the
 * request open; the other sends the event once the dead one's lease has run out, under the
 * same id, with the same body.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { type Cluster, startCluster } from '../../harness/cluster.js';
import { startFlow } from '../../harness/device.js';
import { usePostgres, waitFor } from '../../harness/postgres.js';
import { approveInBrowser } from '../../harness/walker.js';
import { newWebhookSecret, startReceiver } from '../../harness/webhook-receiver.js';

const clusters: Cluster[] = [];
// Registered before usePostgres's own hook, so the instances stop before their database does.
after(() => Promise.all(clusters.map((c) => c.stop())));

const postgres = await usePostgres();

test('an instance killed mid-send: another sends the event after the lease, same id, same body', {
  skip: postgres ? false : 'no PostgreSQL available',
  timeout: 180_000,
}, async (t) => {
  const databaseUrl = await postgres!.createDatabase();
  const secret = newWebhookSecret();
  const receiver = await startReceiver(secret);
  t.after(() => receiver.close());
  receiver.behaviour = { kind: 'hold' };
  // The lease is WEBHOOK_TIMEOUT_MS and 30 s: the dead instance's claim ends 33 s after it began.
  const envFor = (name: string) => ({
    WEBHOOK_URL: `${receiver.url}?instance=${name}`,
    WEBHOOK_SECRET: secret,
    WEBHOOK_TIMEOUT_MS: '3000',
  });
  const [a, b] = await Promise.all(
    ['a', 'b'].map((name) => startCluster({ instances: 1, databaseUrl, env: envFor(name) })),
  );
  clusters.push(a!, b!);
  const byName: Record<string, Cluster> = { a: a!, b: b! };

  const flow = await startFlow(a!.url);
  const page = await approveInBrowser(flow.verification_uri_complete, 'deny');
  assert.equal(page.status, 200, page.body.slice(0, 500));

  // The first instance to claim the event is sending it: the receiver holds the request. Kill it.
  await waitFor(() => receiver.deliveries.length === 1, { timeoutMs: 20_000, intervalMs: 20 });
  const first = receiver.deliveries[0]!;
  const sender = new URL(first.url, receiver.url).searchParams.get('instance')!;
  const survivor = sender === 'a' ? 'b' : 'a';
  await byName[sender]!.instances[0]!.kill('SIGKILL');
  receiver.release();
  t.diagnostic(`instance ${sender} claimed the event and was killed mid-send; ${survivor} remains`);

  const begun = performance.now();
  await waitFor(() => receiver.deliveries.some((d) => d.answered), { timeoutMs: 90_000, intervalMs: 100 });
  t.diagnostic(`delivered by ${survivor} ${Math.round((performance.now() - begun) / 1000)} s after the kill`);
  assert.equal(receiver.deliveries.length, 2, 'sent once more, by the survivor');
  const second = receiver.deliveries[1]!;
  assert.equal(new URL(second.url, receiver.url).searchParams.get('instance'), survivor);
  assert.equal(second.id, first.id, 'the same webhook-id');
  assert.equal(second.raw, first.raw, 'the same body');
  assert.equal(second.body.data.outcome, 'denied');
  assert.deepEqual(receiver.rejected, []);

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // The survivor records the delivery just after the receiver's answer.
    const outbox = async () =>
      (
        await client.query(
          'SELECT o.state, o.attempts, e.flow_id FROM webhook_outbox o JOIN login_events e USING (event_id)',
        )
      ).rows;
    await waitFor(async () => (await outbox())[0]?.state !== 'pending', { timeoutMs: 10_000 }).catch(
      () => {},
    );
    assert.deepEqual(await outbox(), [{ state: 'delivered', attempts: 2, flow_id: first.body.data.flow_id }]);
  } finally {
    await client.end();
  }
  const logs = byName[survivor]!.instances[0]!.stdout();
  assert.doesNotMatch(logs, /"level":(50|60)/, 'the survivor logged no error');
});
