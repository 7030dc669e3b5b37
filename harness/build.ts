/**
 * Test helpers: a config with test defaults, a migrated PGlite store shared by a test file,
 * and `build(t)`, an app wired to a Postiz stand-in with a controllable clock.
 */
import type { TestContext } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { createStandIn, type StandIn } from '../demo/stand-in/index.js';
import { type App, buildApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/config.js';
import type { Db } from '../src/storage/db.js';
import { pgliteDb } from '../src/storage/pglite.js';
import { postgresDb } from '../src/storage/postgres.js';
import { SqlStore } from '../src/storage/sql-store.js';
import type { EndRecord, NewFlow, Store } from '../src/storage/store.js';
import type { WebhookSenderOptions } from '../src/webhooks/sender.js';
import type { PostgresCluster } from './postgres.js';

export const TEST_CLIENT_ID = 'pca_test00000000000000000000000000000';
export const TEST_CLIENT_SECRET = 'pcs_test0000000000000000000000000000000000000000000';

/** A config for tests: credentials set, polls answered at once (no held polls), generous limits unless overridden. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    POSTIZ_OAUTH_CLIENT_ID: TEST_CLIENT_ID,
    POSTIZ_OAUTH_CLIENT_SECRET: TEST_CLIENT_SECRET,
    PGLITE_DATA_DIR: 'memory',
    POLL_WAIT_SECONDS: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

/** The user every test stand-in has logged in unless told otherwise. */
export const TEST_USER = { name: 'Test User', organizationId: 'org_test' };

/** Another person in the test user's organisations, with a Postiz account of their own. */
export const SECOND_MEMBER = 'Second Member';

/** A second organisation of every test stand-in's user: one without a Postiz subscription. */
export const UNPAID_ORG = { id: 'org_unpaid', name: 'Unpaid Org', subscribed: false };

/**
 * A Postiz stand-in (not yet listening) with the test OAuth app registered for `serverUrl`'s
 * callback. Its user has `user.organizationId` selected, and `UNPAID_ORG` to switch to;
 * `SECOND_MEMBER` is another person in the same organisations.
 */
export function testStandIn(serverUrl: string, user = TEST_USER): StandIn {
  return createStandIn({
    organizations: [UNPAID_ORG],
    members: [SECOND_MEMBER],
    clients: [
      {
        clientId: TEST_CLIENT_ID,
        clientSecret: TEST_CLIENT_SECRET,
        redirectUri: `${serverUrl}/device/callback`,
        name: 'Postiz CLI',
      },
    ],
    user,
  });
}

let shared: Promise<Store> | undefined;

/** One migrated in-memory PGlite store per test process (opening one costs seconds); emptied by `resetStore`. */
export function sharedPglite(): Promise<Store> {
  shared ??= (async () => {
    const store = new SqlStore(await pgliteDb('memory'));
    await store.migrate();
    return store;
  })();
  return shared;
}

/** A migrated store on a PostgreSQL database URL. */
export async function postgresStore(url: string): Promise<Store> {
  const store = new SqlStore(postgresDb({ connectionString: url, max: 10 }));
  await store.migrate();
  return store;
}

/** Empty every table the server writes (flows, limits, sightings, logins, the audit trail, the outbox). */
export async function resetStore(store: Store): Promise<void> {
  const { db } = store as unknown as { db: Db };
  await db.query(
    'TRUNCATE device_requests, rate_limits, code_sightings, browser_logins, login_events, webhook_outbox',
  );
}

/** A manual clock: `clock.now()` for the app, `clock.advance(ms)` in tests. */
export function manualClock(start = Date.now()): {
  now: () => number;
  advance: (ms: number) => void;
  set: (ms: number) => void;
} {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (ms) => {
      current = ms;
    },
  };
}

/**
 * A clock that runs with real time, which tests may still move forward (`advance`): for what
 * must happen by itself later, such as a webhook's retry, as well as expiry.
 */
export function liveClock(): ReturnType<typeof manualClock> {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
    set: (ms) => {
      offset = ms - Date.now();
    },
  };
}

export interface Built extends App {
  config: Config;
  store: Store;
  standIn: StandIn;
  clock: ReturnType<typeof manualClock>;
}

/**
 * An app on a fresh (emptied) store, talking to a listening Postiz stand-in, closed after the test.
 * The stand-in's registered redirect is the app's callback; its URL is both POSTIZ_FRONTEND_URL and POSTIZ_API_URL.
 */
export async function build(
  t: TestContext,
  options: {
    env?: Record<string, string>;
    store?: Store;
    clock?: ReturnType<typeof manualClock>;
    /** A pino logger to capture what the app logs (none by default). */
    logger?: FastifyBaseLogger;
    /**
     * A listening stand-in to talk to (another instance's), instead of a new one: instances
     * of one deployment share one Postiz.
     */
    standIn?: StandIn;
    /** Overrides of the webhook sender's options (short retries). */
    webhooks?: Partial<WebhookSenderOptions>;
    /** Leave the store's tables as they are (a second instance joining the first's database). */
    keepStore?: boolean;
  } = {},
): Promise<Built> {
  const clock = options.clock ?? manualClock();
  const serverUrl = options.env?.SERVER_URL ?? 'http://localhost:3111';
  let standIn = options.standIn;
  if (!standIn) {
    standIn = testStandIn(serverUrl);
    await standIn.listen();
    // Registered at once, so a failure below cannot leave the stand-in listening.
    const own = standIn;
    t.after(() => own.close());
  }
  const postizUrl = standIn.url!;
  const config = testConfig({ POSTIZ_FRONTEND_URL: postizUrl, POSTIZ_API_URL: postizUrl, ...options.env });
  const store = options.store ?? (await sharedPglite());
  if (!options.keepStore) await resetStore(store);
  const app = await buildApp(config, {
    store,
    now: clock.now,
    logger: options.logger,
    webhooks: options.webhooks,
  });
  t.after(() => app.app.close());
  return { ...app, config, store, standIn, clock };
}

/**
 * Store a flow outside any rate limit (a start without the limit's bookkeeping), for tests
 * that set up flows directly in a store: whether it was stored (false: a code collided).
 */
export async function insertFlow(store: Store, flow: NewFlow): Promise<boolean> {
  const unlimited = { key: 'test-setup', windowMs: 60_000, max: 1_000_000_000 };
  return (await store.createFlowWithin(flow, unlimited)).created;
}

/** The settings promised to operators (docs/compatibility.md), the original server's among them. */
export const PROMISED_SETTINGS = [
  'DATABASE_URL',
  'PGLITE_DATA_DIR',
  'POSTIZ_OAUTH_CLIENT_ID',
  'POSTIZ_OAUTH_CLIENT_SECRET',
  'PORT',
  'HOST',
  'SERVER_URL',
  'POSTIZ_FRONTEND_URL',
  'POSTIZ_API_URL',
  'TRUST_PROXY',
  'DEVICE_CODE_TTL_SECONDS',
  'POLL_INTERVAL_SECONDS',
  'LOG_LEVEL',
] as const;

/**
 * The two stores a test of several app instances on one database runs on: the shared PGlite,
 * and a fresh PostgreSQL database when a cluster is available (else that case is skipped).
 * `close`: whether the test closes the store it opened.
 */
export function storesToShare(cluster: PostgresCluster | null) {
  return [
    {
      name: 'PGlite',
      skip: false as const,
      open: async () => ({ store: await sharedPglite(), close: false }),
    },
    {
      name: 'PostgreSQL',
      skip: cluster ? (false as const) : 'no PostgreSQL available',
      open: async () => ({ store: await postgresStore(await cluster!.createDatabase()), close: true }),
    },
  ];
}

/** What a test's statements ending flows record: now, a test instance, kept a day, no webhooks. */
export function testEnd(now: Date, notify = false): EndRecord {
  return { now, instance: 'test', keepUntil: new Date(now.getTime() + 86_400_000), notify };
}
