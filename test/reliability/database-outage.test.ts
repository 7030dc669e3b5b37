/**
 * PostgreSQL killed (`kill -9`) mid-flow and restarted seconds later
 * loses no login. Two server processes behind the round-robin proxy stay up, say so on
 * /ready, answer polls `authorization_pending` throughout, reconnect pool and listener by
 * themselves, and the real `postiz` CLI, polling all along, ends up logged in. A callback
 * that arrives while the database is down completes once it is back.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type Cluster, type Instance, startCluster, statusOf, waitForReady } from '../../harness/cluster.js';
import { poll, pollUntilSettled, sleep, startFlow } from '../../harness/device.js';
import { usePostgres, waitFor } from '../../harness/postgres.js';
import { approveInBrowser, walkToCallback } from '../../harness/walker.js';
import { startCliLogin } from '../e2e/support/postiz-cli.js';

let cluster: Cluster | undefined;
// Registered before usePostgres's own hook, so the instances stop before their database does.
after(() => cluster?.stop());

const postgres = await usePostgres();
const skip = postgres ? false : 'no PostgreSQL available';
const WAIT = 15;
/** While set, the stand-in holds token exchanges until it resolves. */
let exchangeGate: Promise<void> | undefined;

/** A page's heading, for assertion messages. */
const heading = (body: string) => /<h1>([^<]*)<\/h1>/.exec(body)?.[1] ?? body.slice(0, 300);

/** Two instances on a fresh database, shared by the tests of this file. */
async function running(): Promise<Cluster> {
  cluster ??= await startCluster({
    instances: 2,
    databaseUrl: await postgres!.createDatabase(),
    // Probes of the listener start many flows from one address.
    env: { POLL_WAIT_SECONDS: '5', RATE_LIMIT_FLOW_STARTS: '1000' },
    onStandIn: (standIn) =>
      standIn.app.addHook('preHandler', async (request) => {
        if (request.url.startsWith('/oauth/token')) await exchangeGate;
      }),
  });
  return cluster;
}

/**
 * Waits until `instance` holds polls again, which it does only while it hears flow changes:
 * a fresh flow's poll with `Prefer: wait=1` answers at once while the listener is down.
 */
async function waitForListener(c: Cluster, instance: Instance): Promise<void> {
  await waitFor(
    async () => {
      const probe = await startFlow(c.url);
      const answer = await poll(instance.url, probe.device_code, 1);
      assert.equal(answer.body.error, 'authorization_pending');
      return answer.ms >= 900;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}

test('PostgreSQL killed mid-flow: servers stay up, polls wait, the postiz CLI ends up logged in', {
  skip,
  timeout: 180_000,
}, async (t) => {
  const c = await running();
  const from = c.proxy.log.length;
  const cliPolls = () => c.proxy.log.slice(from).filter((r) => r.path === '/device/token');
  const login = await startCliLogin(t, c.url);
  const raw = await startFlow(c.url);
  // The CLI has polled at least once (it waits `interval` first).
  await waitFor(() => cliPolls().some((r) => r.endedAt), { timeoutMs: 30_000 });

  await postgres!.kill();
  const killedAt = Date.now();
  for (const instance of c.instances) {
    await waitForReady(instance, 503);
    assert.equal(await statusOf(`${instance.url}/health`), 200);
    const answer = await poll(instance.url, raw.device_code);
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.body.error, 'authorization_pending');
  }
  // The CLI polls on through the outage and is told to keep waiting.
  await waitFor(() => cliPolls().some((r) => r.startedAt > killedAt && r.endedAt), { timeoutMs: 30_000 });
  await sleep(Math.max(0, killedAt + 4000 - Date.now()));
  assert.equal(login.child.proc.exitCode, null, 'the CLI gave up during the outage');
  t.diagnostic(`outage: ${Date.now() - killedAt} ms`);
  await postgres!.restart();

  for (const instance of c.instances) await waitForReady(instance, 200);
  const page = await approveInBrowser(login.opened);
  assert.equal(page.status, 200, page.body.slice(0, 500));
  const { code } = await login.child.waitForExit(60_000);
  assert.equal(code, 0, `${login.child.stdout()}\n${login.child.stderr()}`);
  assert.equal((await login.credentials()).accessToken, c.standIn.issuedTokens().at(-1));

  const polls = cliPolls();
  t.diagnostic(
    polls.map((r) => `${new Date(r.startedAt).toISOString()} → ${r.instance}: ${r.body}`).join('\n'),
  );
  for (const r of polls.slice(0, -1)) assert.match(r.body ?? '', /"error":"authorization_pending"/);
  assert.match(polls.at(-1)?.body ?? '', /"access_token"/);
  for (const instance of c.instances) assert.ok(instance.running(), `instance ${instance.index} died`);
});

test('after the outage each instance hears changes again: a held poll wakes on an approval elsewhere', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const c = await running();
  for (const instance of c.instances) {
    await waitForListener(c, instance);
    const other = (instance.index + 1) % c.instances.length;
    const flow = await startFlow(c.url);
    c.proxy.route = (_method, path) =>
      path === '/device/token' ? instance.index : path === '/device/callback' ? other : undefined;
    try {
      const answer = poll(c.url, flow.device_code, WAIT);
      await sleep(300);
      const page = await approveInBrowser(flow.verification_uri_complete);
      assert.equal(page.status, 200, page.body.slice(0, 500));
      const { status, body, ms } = await answer;
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.access_token, c.standIn.issuedTokens().at(-1));
      assert.ok(ms < WAIT * 1000, `the held poll on instance ${instance.index} took ${ms} ms`);
      t.diagnostic(`instance ${instance.index}: held poll answered after ${Math.round(ms)} ms`);
    } finally {
      c.proxy.route = undefined;
    }
  }
});

test('a callback that arrives while PostgreSQL is down completes once it is back', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const c = await running();
  const flow = await startFlow(c.url);
  const { walker, redirect } = await walkToCallback(flow.verification_uri_complete);

  await postgres!.kill();
  const restarted = sleep(3000).then(() => postgres!.restart());
  const started = Date.now();
  let took = 0;
  const following = walker.follow(redirect).then((p) => {
    took = Date.now() - started;
    return p;
  });
  const page = await following.finally(() => restarted);
  t.diagnostic(`the callback answered after ${took} ms`);
  assert.equal(
    page.status,
    200,
    `the callback answered ${page.status} "${heading(page.body)}" after ${took} ms`,
  );
  assert.match(page.body, /You are logged in/);

  const answer = await pollUntilSettled(c.url, flow.device_code);
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.body.access_token, c.standIn.issuedTokens().at(-1));
});

test('a callback whose database write meets the outage keeps the token and completes', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const c = await running();
  const flow = await startFlow(c.url);
  const { walker, redirect } = await walkToCallback(flow.verification_uri_complete);
  let release = () => {};
  exchangeGate = new Promise<void>((resolve) => {
    release = resolve;
  });
  t.after(() => {
    release();
    exchangeGate = undefined;
  });
  const exchanges = c.standInRequests.filter((r) => r === 'POST /oauth/token').length;

  // The callback has read and claimed the flow and is exchanging the code at Postiz: kill the database now.
  const answered = walker.follow(redirect);
  await waitFor(() => c.standInRequests.filter((r) => r === 'POST /oauth/token').length > exchanges);
  await postgres!.kill();
  release();
  await sleep(3000);
  await postgres!.restart();
  const page = await answered;
  assert.equal(page.status, 200, heading(page.body));
  assert.match(page.body, /You are logged in/);

  const answer = await pollUntilSettled(c.url, flow.device_code);
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.body.access_token, c.standIn.issuedTokens().at(-1));
});
