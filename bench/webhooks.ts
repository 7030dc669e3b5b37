/**
 * `npm run bench:webhooks`: what webhooks cost and how fast they arrive, on each store. An app
 * (in this process, over `app.inject`) logs the CLI in N times, one after another, each a whole
 * login to the token (`delivered`), first without webhooks, then with a receiver in this process
 * that verifies every signature. It reports:
 *
 * - how long each event takes from the end of its login (the token's answer) to the receiver
 *   (p50, p99, max);
 * - the database's work per login, through a counting `Db`: statements and their time, by kind,
 *   without and with webhooks (the sender's claims and settles included).
 *
 * Options: `--logins N` (default 200), `--store postgres|pglite|both` (default both).
 */
import { parseArgs } from 'node:util';
import { testConfig, testStandIn } from '../harness/build.js';
import { pathOf, poll, walkToCallback } from '../harness/inject-browser.js';
import { startPostgres } from '../harness/postgres.js';
import { newWebhookSecret, startReceiver } from '../harness/webhook-receiver.js';
import { buildApp } from '../src/app.js';
import type { Db } from '../src/storage/db.js';
import { pgliteDb } from '../src/storage/pglite.js';
import { postgresDb } from '../src/storage/postgres.js';
import { SqlStore } from '../src/storage/sql-store.js';

const { values } = parseArgs({
  options: {
    logins: { type: 'string', default: '200' },
    store: { type: 'string', default: 'both' },
  },
});
const LOGINS = Number(values.logins);
/** Logins made first and not counted: the JIT, the database's caches and plans warm up. */
const WARMUP = 20;

/** What a statement is, from its text: the store method it comes from, where that can be told. */
const KINDS: [RegExp, string][] = [
  [/start_flows/, 'createFlowWithin'],
  [/INSERT INTO rate_limits/, 'hitAll (rate limits)'],
  [/FROM device_requests WHERE user_code_hash/, 'findByUserCode'],
  [/SET browser_hash|confirmed_at|state_hash = \$2/, 'confirm'],
  [/state_claimed_at = \$2|SET state_claimed_at/, 'claimState'],
  [/INSERT INTO code_sightings/, 'sightCodes'],
  [/SET status = 'approved', sealed_token/, 'approve'],
  [/INSERT INTO browser_logins/, 'recordBrowserLogin'],
  [/FROM browser_logins/, 'browserLogin'],
  [/last_poll_at = CASE/, 'recordPoll'],
  [/SET status = 'delivered'/, 'claimToken'],
  [
    /SET ended_at = \$2\s+WHERE device_code_hash = \$1 AND status = 'delivered'/,
    'confirmDelivery (event, outbox)',
  ],
  [/WITH taken AS/, 'claimOutbox'],
  [/UPDATE webhook_outbox SET state/, 'settleOutbox'],
  [/FROM webhook_outbox/, 'countOutbox'],
  [/pg_notify/, 'notificationsArrive'],
  [/SET hits = r\.hits - 1/, 'forgive (rate limits)'],
  [/count\(\*\)::int AS n FROM device_requests/, 'countPending (the cap)'],
  [/FROM login_events/, 'loginEvents (this benchmark)'],
  [/unnest\(\$1::text\[\], \$2::int\[\]\)/, 'staleFlows (re-check)'],
  [/FROM device_requests WHERE flow_id/, 'findByFlowId'],
  [/FROM device_requests WHERE state_hash/, 'findByState'],
  [/FROM device_requests WHERE device_code_hash/, 'findByDeviceCode'],
];

interface Tally {
  count: number;
  ms: number;
}

/** `db`, counting each statement and its time by kind. */
function counting(db: Db, tallies: Map<string, Tally>): Db {
  const query = async (sql: string, params?: unknown[]) => {
    const kind = KINDS.find(([pattern]) => pattern.test(sql))?.[1] ?? sql.replace(/\s+/g, ' ').slice(0, 60);
    const begun = performance.now();
    try {
      return await db.query(sql, params);
    } finally {
      const tally = tallies.get(kind) ?? { count: 0, ms: 0 };
      tally.count += 1;
      tally.ms += performance.now() - begun;
      tallies.set(kind, tally);
    }
  };
  return { ...db, kind: db.kind, query, session: db.session, listen: db.listen, close: db.close };
}

/** Resolves once `done()` holds (checked every 20 ms), or after 30 s. */
async function waitUntil(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

interface Run {
  tallies: Map<string, Tally>;
  /** From each login's token answer to its event at the receiver (ms), when webhooks are on. */
  latencies: number[];
  loginMs: number[];
}

/** N delivered logins on a fresh app over `db`, with or without webhooks. */
async function run(db: Db, webhooks: boolean): Promise<Run> {
  const tallies = new Map<string, Tally>();
  const store = new SqlStore(counting(db, tallies));
  await store.migrate();
  await db.query(
    'TRUNCATE device_requests, rate_limits, code_sightings, browser_logins, login_events, webhook_outbox',
  );
  const secret = newWebhookSecret();
  const receiver = await startReceiver(secret);
  const standIn = testStandIn('http://localhost:3111');
  const postizUrl = await standIn.listen();
  const config = testConfig({
    POSTIZ_FRONTEND_URL: postizUrl,
    POSTIZ_API_URL: postizUrl,
    RATE_LIMIT_FLOW_STARTS: '1000000',
    RATE_LIMIT_USER_CODE_ATTEMPTS: '100000',
    ...(webhooks ? { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret } : {}),
  });
  const { app } = await buildApp(config, { store });
  const ended: number[] = [];
  const loginMs: number[] = [];
  let order: string[] = [];
  try {
    for (let i = -WARMUP; i < LOGINS; i++) {
      if (i === 0) {
        if (webhooks) await waitUntil(() => receiver.answered().size >= WARMUP);
        tallies.clear();
        receiver.deliveries.length = 0;
      }
      const begun = performance.now();
      const walked = await walkToCallback(app, 'approve');
      await walked.browser.get(pathOf(walked.callbackUrl));
      const answer = await poll(app, walked.started.device_code);
      if (answer.status !== 200) throw new Error(`login ${i}: ${answer.status} ${answer.body}`);
      if (i < 0) continue;
      const now = performance.now();
      loginMs.push(now - begun);
      ended.push(now);
    }
    if (webhooks) await waitUntil(() => receiver.answered().size >= WARMUP + LOGINS);
    // The logins ran one after another: the trail's order (by time) is theirs.
    order = (await store.loginEvents({ limit: LOGINS })).reverse().map((e) => e.flowId);
    tallies.delete('loginEvents (this benchmark)');
  } finally {
    await app.close();
    await standIn.close();
    await receiver.close();
    await store.close();
  }
  const latencies: number[] = [];
  if (webhooks) {
    if (receiver.rejected.length > 0) throw new Error(`bad signatures: ${receiver.rejected.join(', ')}`);
    const arrivals = new Map(receiver.deliveries.map((d) => [d.body.data.flow_id, d.arrivedAt]));
    for (const [i, flowId] of order.entries()) {
      const arrived = arrivals.get(flowId);
      if (arrived === undefined) throw new Error(`the event of login ${i} never arrived`);
      latencies.push(arrived - ended[i]!);
    }
  }
  return { tallies, latencies, loginMs };
}

function report(name: string, off: Run, on: Run): void {
  const perLogin = (r: Run) => {
    let count = 0;
    let ms = 0;
    for (const t of r.tallies.values()) {
      count += t.count;
      ms += t.ms;
    }
    return { count: count / LOGINS, ms: ms / LOGINS };
  };
  const a = perLogin(off);
  const b = perLogin(on);
  const sorted = [...on.latencies].sort((x, y) => x - y);
  const loginP50 = (r: Run) =>
    quantile(
      [...r.loginMs].sort((x, y) => x - y),
      0.5,
    );
  console.log(`\n## ${name}: ${LOGINS} delivered logins, one at a time\n`);
  console.log(
    `event to receiver: p50 ${quantile(sorted, 0.5).toFixed(1)} ms, p99 ${quantile(sorted, 0.99).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`,
  );
  console.log(
    `login (whole, in process): p50 ${loginP50(off).toFixed(1)} ms without webhooks, ${loginP50(on).toFixed(1)} ms with`,
  );
  console.log(
    `database per login: ${a.count.toFixed(2)} statements, ${a.ms.toFixed(2)} ms without webhooks; ${b.count.toFixed(2)} statements, ${b.ms.toFixed(2)} ms with\n`,
  );
  console.log('| Statement | per login (off) | mean ms (off) | per login (on) | mean ms (on) |');
  console.log('|---|---|---|---|---|');
  const kinds = new Set([...off.tallies.keys(), ...on.tallies.keys()]);
  for (const kind of [...kinds].sort()) {
    const x = off.tallies.get(kind);
    const y = on.tallies.get(kind);
    const cell = (t: Tally | undefined) =>
      t ? `${(t.count / LOGINS).toFixed(2)} | ${(t.ms / t.count).toFixed(3)}` : '– | –';
    console.log(`| ${kind} | ${cell(x)} | ${cell(y)} |`);
  }
}

if (values.store === 'both' || values.store === 'pglite') {
  const off = await run(await pgliteDb('memory'), false);
  const on = await run(await pgliteDb('memory'), true);
  report('PGlite (in this process)', off, on);
}
if (values.store === 'both' || values.store === 'postgres') {
  const cluster = await startPostgres();
  if (!cluster) throw new Error('no PostgreSQL available (initdb/pg_ctl, or TEST_DATABASE_URL)');
  try {
    const off = await run(postgresDb({ connectionString: await cluster.createDatabase(), max: 10 }), false);
    const on = await run(postgresDb({ connectionString: await cluster.createDatabase(), max: 10 }), true);
    report('PostgreSQL (a local cluster)', off, on);
  } finally {
    await cluster.stop();
  }
}
