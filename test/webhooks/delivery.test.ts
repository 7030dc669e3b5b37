/**
 * Tests that try to lose a webhook (docs/deploy.md, "Audit trail and webhooks"), in process:
 * apps built on each store with WEBHOOK_URL set, and a real HTTP receiver that verifies every
 * signature with the `standardwebhooks` package. Every event recorded in `login_events` must
 * arrive exactly as recorded (same id, outcome, flow), whatever the receiver does: every
 * outcome; a receiver down, then failing, then back; one slower than WEBHOOK_TIMEOUT_MS (and
 * logins never wait for it); one that never recovers (given up); two instances racing for the
 * same outbox; an instance stopping mid-send. Retries use short waits (the sender's `retry` option).
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import {
  type Built,
  build,
  liveClock,
  postgresStore,
  storesToShare,
  TEST_USER,
  UNPAID_ORG,
} from '../../harness/build.js';
import {
  enterCode,
  InjectBrowser,
  pathOf,
  poll,
  pressOnConfirmation,
  startFlow,
  walkToCallback,
} from '../../harness/inject-browser.js';
import { captureLog, metric } from '../../harness/observe.js';
import { usePostgres, waitFor } from '../../harness/postgres.js';
import { newWebhookSecret, type Receiver, startReceiver } from '../../harness/webhook-receiver.js';
import type { Db } from '../../src/storage/db.js';
import type { LoginEvent, LoginOutcome, Store } from '../../src/storage/store.js';
import type { WebhookSenderOptions } from '../../src/webhooks/sender.js';

const cluster = await usePostgres();
const stores = storesToShare(cluster);

/** Short waits, so that retries happen within a test; nothing given up unless a test says so. */
const FAST: Partial<WebhookSenderOptions> = {
  retry: { scheduleMs: [50, 100, 200], jitter: 0.2, giveUpAfterMs: 10 * 60_000 },
  pollIntervalMs: 100,
};

const ATTEMPTS_FAILED = 'postiz_cli_auth_webhook_attempts_total{result="failed"}';
const EVENTS_DELIVERED = 'postiz_cli_auth_webhook_events_total{result="delivered"}';

/**
 * Waits until the outbox gauge reads `value` for `state`: the sender counts an event's end just
 * before it records it in the outbox.
 */
async function outboxReads(built: Built, state: 'pending' | 'failed', value: number): Promise<void> {
  const sample = `postiz_cli_auth_webhook_outbox{state="${state}"}`;
  await waitFor(async () => (await metric(built.app, sample)) === value, { timeoutMs: 5000 }).catch(() => {});
  assert.equal(await metric(built.app, sample), value, sample);
}

/** A receiver for a fresh secret, closed after the test. */
async function receiverFor(t: TestContext): Promise<{ receiver: Receiver; secret: string }> {
  const secret = newWebhookSecret();
  const receiver = await startReceiver(secret);
  t.after(() => receiver.close());
  return { receiver, secret };
}

/** A login of each kind, through the app as the CLI and a browser make it; resolves once it ended. */
const logins: Record<Exclude<LoginOutcome, 'blocked' | 'failed'>, (built: Built) => Promise<void>> = {
  async delivered({ app }) {
    const walked = await walkToCallback(app, 'approve');
    assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
    const answer = await poll(app, walked.started.device_code);
    assert.equal(answer.status, 200, answer.body);
  },
  async denied({ app }) {
    const walked = await walkToCallback(app, 'deny');
    assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
  },
  async cancelled({ app }) {
    const started = await startFlow(app);
    const browser = new InjectBrowser(app);
    const confirmation = await enterCode(browser, started.user_code);
    assert.equal((await pressOnConfirmation(browser, confirmation, 'deny')).status, 200);
  },
  async refused({ app }) {
    const walked = await walkToCallback(app, 'approve', undefined, UNPAID_ORG.id);
    assert.equal((await walked.browser.get(pathOf(walked.callbackUrl))).status, 200);
  },
  async expired(built) {
    // The jump below is past the lease of any send still under way, which would then be sent
    // again (at least once, as after an instance that stalled that long): let those end first.
    await waitFor(async () => (await built.store.countOutbox()).pending === 0, { timeoutMs: 20_000 });
    await startFlow(built.app);
    built.clock.advance((built.config.deviceCodeTtlSeconds + 1) * 1000);
    assert.ok((await built.flows.purge()) >= 1);
  },
};

/**
 * Waits until every event in the trail has been answered 2xx by the receiver, then checks
 * each arrived exactly as recorded, every copy of it the same bytes, every signature valid,
 * and nothing arrived that is not on the record. The events, oldest first.
 */
async function allArrive(store: Store, receiver: Receiver, count: number): Promise<LoginEvent[]> {
  await waitFor(
    async () => {
      const events = await store.loginEvents({ limit: 1000 });
      return events.length === count && events.every((e) => receiver.answered().has(e.eventId));
    },
    { timeoutMs: 20_000, intervalMs: 50 },
  ).catch(async (err) => {
    const events = await store.loginEvents({ limit: 1000 });
    throw new Error(
      `${events.length}/${count} events recorded, ${receiver.answered().size} answered: ${(err as Error).message}`,
    );
  });
  const events = (await store.loginEvents({ limit: 1000 })).reverse();
  assert.deepEqual(receiver.rejected, [], 'every signature verified');
  const ids = new Set(events.map((e) => e.eventId));
  assert.deepEqual(
    receiver.deliveries.filter((d) => !ids.has(d.id)).map((d) => d.id),
    [],
    'nothing arrived that is not on the record',
  );
  for (const event of events) {
    const copies = receiver.deliveries.filter((d) => d.id === event.eventId);
    assert.equal(
      new Set(copies.map((d) => d.raw)).size,
      1,
      `${event.eventId}: one payload, however often sent`,
    );
    const { body } = copies[0]!;
    assert.deepEqual(
      { ...body, data: { ...body.data, organization: undefined } },
      {
        type: `cli_login.${event.outcome}`,
        timestamp: event.at.toISOString(),
        data: {
          event_id: event.eventId,
          flow_id: event.flowId,
          outcome: event.outcome,
          reason: event.reason,
          organization: undefined,
          device: { address: event.clientIp, user_agent: event.userAgent },
          browser_network: event.browserNetwork,
          code_source: event.codeSource,
          instance: event.instance,
          started_at: event.startedAt.toISOString(),
          ended_at: event.at.toISOString(),
        },
      },
    );
  }
  return events;
}

for (const backend of stores) {
  test(`every outcome's event arrives signed, exactly as recorded, the organisation named (${backend.name})`, {
    skip: backend.skip,
    timeout: 60_000,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const { receiver, secret } = await receiverFor(t);
    const built = await build(t, {
      store,
      clock: liveClock(),
      env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret },
      webhooks: FAST,
    });
    // Each answer late enough that, without the wait in `expired`, a send spans the clock's jump.
    receiver.behaviour = { kind: 'slow', delayMs: 300 };
    const outcomes = Object.keys(logins) as (keyof typeof logins)[];
    for (const outcome of outcomes) await logins[outcome](built);
    const events = await allArrive(store, receiver, outcomes.length);
    assert.deepEqual(events.map((e) => e.outcome).sort(), [...outcomes].sort());
    const delivered = receiver.deliveries.find((d) => d.body.data.outcome === 'delivered')!.body;
    assert.deepEqual(delivered.data.organization, { id: TEST_USER.organizationId });
    assert.equal(delivered.data.device.user_agent, 'postiz/2.1.0 (linux)');
    const refused = receiver.deliveries.find((d) => d.body.data.outcome === 'refused')!.body;
    assert.deepEqual(refused.data.organization, { id: UNPAID_ORG.id });
    assert.equal(refused.data.reason, 'no_subscription');
    assert.equal(
      receiver.deliveries.find((d) => d.body.data.outcome === 'cancelled')!.body.data.organization,
      null,
    );
    // Nothing that could open a token: no token the stand-in issued is in any payload.
    for (const token of built.standIn.issuedTokens())
      assert.ok(!receiver.deliveries.some((d) => d.raw.includes(token)), 'no token in a webhook');
    await waitFor(async () => (await metric(built.app, EVENTS_DELIVERED)) === outcomes.length, {
      timeoutMs: 5000,
    }).catch(async (err) => {
      throw new Error(
        `${await metric(built.app, EVENTS_DELIVERED)} events counted delivered, ${receiver.deliveries.length} deliveries: ${(err as Error).message}`,
      );
    });
    await outboxReads(built, 'pending', 0);
    assert.equal(await metric(built.app, 'postiz_cli_auth_webhook_delivery_seconds_count'), outcomes.length);
  });

  test(`a receiver down (connection refused), then failing (503), then back: every event arrives, and the log names the endpoint without its secrets (${backend.name})`, {
    skip: backend.skip,
    timeout: 60_000,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const { receiver, secret } = await receiverFor(t);
    const log = captureLog('warn');
    const url = new URL(receiver.url);
    url.username = 'hookuser';
    url.password = 'hook-password';
    url.search = '?token=query-secret';
    const built = await build(t, {
      store,
      clock: liveClock(),
      env: { WEBHOOK_URL: url.href, WEBHOOK_SECRET: secret },
      logger: log.logger,
      webhooks: FAST,
    });
    await receiver.down();
    await logins.delivered(built);
    await logins.cancelled(built);
    await waitFor(async () => (await metric(built.app, ATTEMPTS_FAILED)) >= 4, { timeoutMs: 10_000 });
    assert.equal(receiver.deliveries.length, 0);

    receiver.behaviour = { kind: 'status', status: 503 };
    await receiver.up();
    await waitFor(() => receiver.deliveries.length >= 2, { timeoutMs: 10_000 });
    await logins.denied(built);
    receiver.behaviour = { kind: 'ok' };
    await allArrive(store, receiver, 3);

    assert.equal(receiver.deliveries[0]!.headers.authorization, `Basic ${btoa('hookuser:hook-password')}`);
    assert.equal(receiver.deliveries[0]!.url, '/hooks?token=query-secret');
    const failures = log.lines.filter((l) => l.msg === 'webhook attempt failed; will retry');
    assert.ok(
      failures.some((l) => l.cause === 'ECONNREFUSED'),
      'refused connections are named',
    );
    assert.ok(
      failures.some((l) => l.cause === 'HTTP 503'),
      'error statuses are named',
    );
    for (const line of failures)
      assert.match(String(line.endpoint), new RegExp(`^${url.origin} \\([0-9a-f]{8}\\)$`));
    const text = log.raw.join('');
    for (const secretPart of ['query-secret', 'hook-password', secret.slice(6), 'v1,'])
      assert.ok(!text.includes(secretPart), `the log never holds ${secretPart}`);
    await outboxReads(built, 'pending', 0);
  });

  test(`an endpoint's credentials, query key and secret path are never stored or logged, and an event it took before a restart is not sent to it again (${backend.name})`, {
    skip: backend.skip,
    timeout: 60_000,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const secret = newWebhookSecret();
    // A receiver that takes its key in the path (as Zapier's do), and a second endpoint.
    const zap = await startReceiver(secret, '/hooks/catch/path-secret-7f3a');
    t.after(() => zap.close());
    const other = await startReceiver(secret);
    t.after(() => other.close());
    const url = new URL(zap.url);
    url.username = 'hookuser';
    url.password = 'hook-password';
    url.search = '?token=query-secret';
    const env = { WEBHOOK_URL: `${url.href},${other.url}`, WEBHOOK_SECRET: secret };
    const secrets = ['hookuser', 'hook-password', 'query-secret', 'path-secret', '/hooks'];
    const log = captureLog('debug');
    const clock = liveClock();
    const first = await build(t, { store, clock, env, logger: log.logger, webhooks: FAST });
    other.behaviour = { kind: 'status', status: 503 };
    await logins.cancelled(first);
    const { db } = store as unknown as { db: Db };
    const outbox = async () =>
      await db.query('SELECT delivered_to, last_error, row_to_json(o)::text AS raw FROM webhook_outbox o');
    // Taken by the first endpoint, refused by the second, and recorded so.
    await waitFor(async () => (await outbox())[0]?.last_error != null && zap.answered().size === 1, {
      timeoutMs: 10_000,
    });
    const [row] = await outbox();
    for (const part of secrets) assert.ok(!String(row!.raw).includes(part), `the outbox never holds ${part}`);
    assert.equal((row!.delivered_to as string[]).length, 1, 'one endpoint has it');
    assert.match(String(row!.last_error), /^http:\/\/127\.0\.0\.1:\d+ \([0-9a-f]{8}\): HTTP 503$/);

    // A restart (a deploy): the next instance sends it to the second endpoint only.
    await first.app.close();
    other.behaviour = { kind: 'ok' };
    const next = await build(t, { store, clock, env, logger: log.logger, webhooks: FAST, keepStore: true });
    await waitFor(() => other.answered().size === 1, { timeoutMs: 10_000 });
    await outboxReads(next, 'pending', 0);
    assert.equal(zap.deliveries.length, 1, 'the endpoint that had the event is not sent it again');
    const [done] = await outbox();
    for (const part of secrets)
      assert.ok(!String(done!.raw).includes(part), `the outbox never holds ${part}`);
    assert.equal((done!.delivered_to as string[]).length, 2);

    const warned = log.lines.filter((l) => l.msg === 'webhook attempt failed; will retry');
    assert.ok(warned.length > 0);
    for (const line of warned)
      assert.match(String(line.endpoint), /^http:\/\/127\.0\.0\.1:\d+ \([0-9a-f]{8}\)$/);
    const text = log.raw.join('');
    for (const part of secrets) assert.ok(!text.includes(part), `the log never holds ${part}`);
  });

  test(`a receiver slower than WEBHOOK_TIMEOUT_MS is retried, and no login waits for it (${backend.name})`, {
    skip: backend.skip,
    timeout: 60_000,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const { receiver, secret } = await receiverFor(t);
    const log = captureLog('warn');
    const built = await build(t, {
      store,
      clock: liveClock(),
      env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, WEBHOOK_TIMEOUT_MS: '200' },
      logger: log.logger,
      webhooks: FAST,
    });
    const delayMs = 5000;
    receiver.behaviour = { kind: 'slow', delayMs };
    await logins.cancelled(built);
    await waitFor(() => receiver.open() > 0, { timeoutMs: 10_000 });
    // A whole login while the receiver sits on a webhook: it is done long before the receiver answers.
    const begun = performance.now();
    await logins.delivered(built);
    const loginMs = performance.now() - begun;
    assert.ok(receiver.open() > 0, 'the receiver was still holding a webhook when the login ended');
    assert.ok(
      loginMs < delayMs,
      `a login took ${Math.round(loginMs)} ms beside a receiver taking ${delayMs} ms`,
    );
    t.diagnostic(`a login took ${Math.round(loginMs)} ms while the receiver took ${delayMs} ms per webhook`);
    await waitFor(async () => (await metric(built.app, ATTEMPTS_FAILED)) >= 2, { timeoutMs: 10_000 });
    receiver.behaviour = { kind: 'ok' };
    await allArrive(store, receiver, 2);
    assert.ok(
      log.lines.some((l) => l.cause === 'no answer within 200 ms'),
      'a timeout is logged as one',
    );
  });

  test(`an event no endpoint takes for its whole time is given up: counted, logged at error, kept as failed (${backend.name})`, {
    skip: backend.skip,
    timeout: 60_000,
  }, async (t) => {
    const { store, close } = await backend.open();
    if (close) t.after(() => store.close());
    const { receiver, secret } = await receiverFor(t);
    const log = captureLog('warn');
    const built = await build(t, {
      store,
      clock: liveClock(),
      env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret },
      logger: log.logger,
      webhooks: { ...FAST, retry: { scheduleMs: [50], jitter: 0, giveUpAfterMs: 400 } },
    });
    receiver.behaviour = { kind: 'status', status: 500 };
    await logins.cancelled(built);
    await waitFor(
      async () => (await metric(built.app, 'postiz_cli_auth_webhook_events_total{result="given_up"}')) === 1,
      {
        timeoutMs: 10_000,
      },
    );
    await outboxReads(built, 'failed', 1);
    await outboxReads(built, 'pending', 0);
    assert.ok(receiver.deliveries.length >= 2, 'tried more than once');
    const [givenUp] = log.lines.filter(
      (l) => l.msg === 'webhook given up: the event never reached every endpoint',
    );
    assert.equal(givenUp?.level, 50);
    const [event] = await store.loginEvents({ limit: 1 });
    assert.equal(givenUp?.eventId, event?.eventId);
    // Nothing more is sent.
    const sent = receiver.deliveries.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.deliveries.length, sent);
  });
}

test('two instances racing for the same outbox: every event delivered once, never two payloads for one id (PostgreSQL)', {
  skip: cluster ? false : 'no PostgreSQL available',
  timeout: 90_000,
}, async (t) => {
  const url = await cluster!.createDatabase();
  const [storeA, storeB] = [await postgresStore(url), await postgresStore(url)];
  t.after(() => Promise.all([storeA.close(), storeB.close()]));
  const { receiver, secret } = await receiverFor(t);
  const env = { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret };
  const clock = liveClock();
  const a = await build(t, { store: storeA, clock, env, webhooks: FAST });
  const b = await build(t, {
    store: storeB,
    clock,
    env,
    webhooks: FAST,
    standIn: a.standIn,
    keepStore: true,
  });
  // A failing receiver first, so that both instances also race for the retries.
  receiver.behaviour = { kind: 'status', status: 503 };
  const count = 16;
  // Logins on either instance; both senders hear every event's notification at once.
  for (let i = 0; i < count; i++) await (i % 4 === 0 ? logins.delivered : logins.cancelled)(i % 2 ? a : b);
  await waitFor(() => receiver.deliveries.length >= count, { timeoutMs: 10_000 });
  receiver.behaviour = { kind: 'ok' };
  await allArrive(storeA, receiver, count);
  const answered = new Map<string, number>();
  for (const d of receiver.deliveries.filter((d) => d.answered))
    answered.set(d.id, (answered.get(d.id) ?? 0) + 1);
  assert.deepEqual(
    [...answered.values()].filter((n) => n !== 1),
    [],
    'each event taken once it was answered',
  );
  const sent = async () => (await metric(a.app, EVENTS_DELIVERED)) + (await metric(b.app, EVENTS_DELIVERED));
  await waitFor(async () => (await sent()) === count, { timeoutMs: 5000 }).catch(() => {});
  assert.equal(await sent(), count, 'the instances shared the work, each event finished by one of them');
  t.diagnostic(
    `instance A finished ${await metric(a.app, EVENTS_DELIVERED)} events, instance B ${await metric(b.app, EVENTS_DELIVERED)}`,
  );
});

test('an instance stopping mid-send (a deploy) releases the event at once, and the next instance sends it (PGlite)', {
  timeout: 60_000,
}, async (t) => {
  const { store } = await stores[0]!.open();
  const { receiver, secret } = await receiverFor(t);
  receiver.behaviour = { kind: 'hold' };
  const env = { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret, SHUTDOWN_TIMEOUT_MS: '200' };
  const clock = liveClock();
  const first = await build(t, { store, clock, env, webhooks: FAST });
  await logins.cancelled(first);
  await waitFor(() => receiver.open() === 1, { timeoutMs: 10_000 });
  // Closing waits SHUTDOWN_TIMEOUT_MS for the send, then cuts it and gives the event back.
  await first.app.close();
  const { db } = store as unknown as { db: Db };
  const [row] = await db.query('SELECT state, attempts, last_error, locked_until FROM webhook_outbox');
  assert.deepEqual({ ...row }, { state: 'pending', attempts: 1, last_error: 'stopped', locked_until: null });
  receiver.release();
  const next = await build(t, { store, clock, env, webhooks: FAST, standIn: first.standIn, keepStore: true });
  await allArrive(store, receiver, 1);
  await outboxReads(next, 'pending', 0);
});
