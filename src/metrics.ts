/**
 * Prometheus metrics (prom-client), one registry per app so tests and several apps in one
 * process never share counters.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { BurnResult } from './device-flow/code-burner.js';
import { type FlowObserver, TROUBLE_KINDS } from './device-flow/events.js';
import { LOGIN_OUTCOMES } from './storage/store.js';
import type { CredentialsState } from './upstream/credentials.js';
import type { Reachability } from './upstream/reachability.js';
import { type BuildInfo, buildInfo } from './version.js';

/*
 * The label values each labelled counter starts with, at 0: a series that is born at its first
 * event holds 1 in its first sample, so `increase()` sees nothing of that event (an alert on
 * it never fires) and a dashboard panel reads "No data" until then. Each list is also what
 * the metric's help text names.
 */

/**
 * `refused`: Postiz refused the new token (no subscription, or another refusal of its public
 * API); `blocked`: confirmed from another network under `CROSS_NETWORK_POLICY=block`.
 */
export const FLOW_OUTCOMES = LOGIN_OUTCOMES;
export type FlowOutcome = (typeof FLOW_OUTCOMES)[number];

/** What a poll can be answered: its token, an OAuth error code, or `try_again` (a 503 without a body). */
export const POLL_RESULTS = [
  'token',
  'authorization_pending',
  'slow_down',
  'access_denied',
  'expired_token',
  'invalid_grant',
  'invalid_request',
  'unsupported_grant_type',
  'too_many_requests',
  'postiz_subscription_required',
  'postiz_refused_token',
  'try_again',
] as const;

/** The answers of Postiz's token endpoint (docs/postiz.md), the 5xx a proxy in front of it gives, and no answer. */
export const UPSTREAM_STATUSES = [
  '201',
  '400',
  '401',
  '500',
  '502',
  '503',
  '504',
  'timeout',
  'error',
] as const;

/**
 * The values of a string union, from an object with each of them as a key: the compiler
 * refuses the object when a value is missing or unknown, so the list keeps up with the type.
 */
const valuesOf = <T extends string>(keys: Record<T, true>): readonly T[] => Object.keys(keys) as T[];

/** The routes a rate limit refuses on. */
export const RATE_LIMITED_ROUTES = valuesOf<Parameters<FlowObserver['rateLimited']>[0]>({
  device_code: true,
  verify: true,
  token: true,
  refresh: true,
});

/** What the check of a new token at Postiz's public API found (`token_checked`). */
export const TOKEN_CHECK_RESULTS = ['working', 'no_subscription', 'token_refused', 'unchecked'] as const;

/** What became of a code that reached a refused callback (`CodeBurner.burn`). */
export const BURN_RESULTS = valuesOf<BurnResult>({
  burned: true,
  rejected: true,
  failed: true,
  limited: true,
  repeated: true,
  subresource: true,
  malformed: true,
});

/** What one POST of a webhook to one endpoint came to: a 2xx, or anything else. */
export const WEBHOOK_ATTEMPT_RESULTS = ['delivered', 'failed'] as const;
/** What became of a webhook event: every endpoint has it, or it was given up after a day. */
export const WEBHOOK_EVENT_RESULTS = ['delivered', 'given_up'] as const;
/** The outbox's events by state: still to reach every endpoint, or given up. */
export const OUTBOX_STATES = ['pending', 'failed'] as const;

/** `a`, `b` and `c` for a help text. */
const listed = (values: readonly string[]): string => values.map((v) => `"${v}"`).join(', ');

/** A counter with one label, each of `values` at 0 from the start. */
function labelledCounter<L extends string>(
  options: { name: string; help: string; labelNames: [L]; registers: Registry[] },
  values: readonly string[],
): Counter<L> {
  const counter = new Counter(options);
  for (const value of values) counter.inc({ [options.labelNames[0]]: value } as Record<L, string>, 0);
  return counter;
}

/** Every metric the server exports. */
export interface Metrics {
  registry: Registry;
  flowsStarted: Counter;
  flowsFinished: Counter<'outcome'>;
  polls: Counter<'result'>;
  upstreamDuration: Histogram;
  upstreamRequests: Counter<'status'>;
  rateLimited: Counter<'route'>;
  codesBurned: Counter<'result'>;
  tokenChecks: Counter<'result'>;
  pendingFlows: Gauge;
  heldPolls: Gauge;
  notificationsWorking: Gauge;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  buildInfo: Gauge<'version' | 'commit' | 'node'>;
  postizReachable: Gauge;
  postizCredentialsValid: Gauge;
  databaseErrors: Counter<'kind'>;
  approvalToToken: Histogram;
  webhookOutbox: Gauge<'state'>;
  webhookAttempts: Counter<'result'>;
  webhookEvents: Counter<'result'>;
  webhookDelivery: Histogram;
}

/** Create the registry; `pendingFlows` asks `countPending` when scraped. */
export function createMetrics(options: {
  countPending: () => Promise<number>;
  /** Polls held open on this instance right now. */
  countHeld: () => number;
  defaultMetrics?: boolean;
  /** Whether Postiz answered its last check (`postiz_cli_auth_postiz_reachable`). */
  postizState?: () => Reachability;
  /** Whether Postiz accepts our OAuth credentials (`postiz_cli_auth_postiz_credentials_valid`). */
  credentialsState?: () => CredentialsState;
  /** What `postiz_cli_auth_build_info` says (default: this build). */
  build?: BuildInfo;
  /** The webhook outbox's events by state (`postiz_cli_auth_webhook_outbox`; 0 when omitted). */
  countOutbox?: () => Promise<{ pending: number; failed: number }>;
}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const build = options.build ?? buildInfo();
  const info = new Gauge({
    name: 'postiz_cli_auth_build_info',
    help: 'Always 1; its labels say which version, commit and Node.js each instance runs.',
    labelNames: ['version', 'commit', 'node'],
    registers,
  });
  info.set({ version: build.version, commit: build.commit, node: build.node }, 1);
  return {
    buildInfo: info,
    databaseErrors: labelledCounter(
      {
        name: 'postiz_cli_auth_database_errors_total',
        help: `Database failures the server survived, by what it was doing: ${listed(TROUBLE_KINDS)}.`,
        labelNames: ['kind'],
        registers,
      },
      TROUBLE_KINDS,
    ),
    approvalToToken: new Histogram({
      name: 'postiz_cli_auth_approval_to_token_seconds',
      help: "From the user's approval to the CLI receiving its token (a held poll answers at once; a CLI between polls waits up to its interval).",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
    postizReachable: new Gauge({
      name: 'postiz_cli_auth_postiz_reachable',
      help: 'Whether POSTIZ_API_URL answered its last check (1) or not (0: logins fail at the code exchange); NaN before the first check.',
      registers,
      collect() {
        const state = options.postizState?.() ?? 'unknown';
        this.set(state === 'reachable' ? 1 : state === 'unreachable' ? 0 : Number.NaN);
      },
    }),
    postizCredentialsValid: new Gauge({
      name: 'postiz_cli_auth_postiz_credentials_valid',
      help: "Whether Postiz accepted this server's OAuth credentials at the last exchange, a junk-code check or a login (1), or refused them (0: POSTIZ_OAUTH_CLIENT_ID or POSTIZ_OAUTH_CLIENT_SECRET is wrong, every login fails); NaN before Postiz has answered one.",
      registers,
      collect() {
        const state = options.credentialsState?.() ?? 'unknown';
        this.set(state === 'accepted' ? 1 : state === 'refused' ? 0 : Number.NaN);
      },
    }),
    registry,
    flowsStarted: new Counter({
      name: 'postiz_cli_auth_flows_started_total',
      help: 'Device flows started.',
      registers,
    }),
    flowsFinished: labelledCounter(
      {
        name: 'postiz_cli_auth_flows_finished_total',
        help: `Device flows finished, by outcome: ${listed(FLOW_OUTCOMES)}.`,
        labelNames: ['outcome'],
        registers,
      },
      FLOW_OUTCOMES,
    ),
    polls: labelledCounter(
      {
        name: 'postiz_cli_auth_polls_total',
        help: `Token endpoint polls, by result: the token, an OAuth error code, or "try_again" (${listed(POLL_RESULTS)}).`,
        labelNames: ['result'],
        registers,
      },
      POLL_RESULTS,
    ),
    upstreamDuration: new Histogram({
      name: 'postiz_cli_auth_upstream_request_duration_seconds',
      help: "Duration of requests to the provider's token endpoint (Postiz, or the UPSTREAM=oauth provider): code exchanges and forwarded refreshes.",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers,
    }),
    upstreamRequests: labelledCounter(
      {
        name: 'postiz_cli_auth_upstream_requests_total',
        help: `Requests to the provider's token endpoint (Postiz, or the UPSTREAM=oauth provider), code exchanges and forwarded refreshes, by HTTP status, "timeout" or "error" (${listed(UPSTREAM_STATUSES)} from the start; any other status from its first answer).`,
        labelNames: ['status'],
        registers,
      },
      UPSTREAM_STATUSES,
    ),
    rateLimited: labelledCounter(
      {
        name: 'postiz_cli_auth_rate_limited_total',
        help: `Requests refused by a rate limit, by route: ${listed(RATE_LIMITED_ROUTES)}.`,
        labelNames: ['route'],
        registers,
      },
      RATE_LIMITED_ROUTES,
    ),
    tokenChecks: labelledCounter(
      {
        name: 'postiz_cli_auth_token_checks_total',
        help: `New tokens checked at Postiz's public API before they are handed over, by result (${listed(TOKEN_CHECK_RESULTS)}: "no_subscription" and "token_refused" ended the login with an error the CLI prints; "unchecked": Postiz could not be asked, the token was handed over).`,
        labelNames: ['result'],
        registers,
      },
      TOKEN_CHECK_RESULTS,
    ),
    codesBurned: labelledCounter(
      {
        name: 'postiz_cli_auth_codes_burned_total',
        help: `Postiz codes that reached a refused callback (recorded, so never exchanged), by what became of them at Postiz (${listed(BURN_RESULTS)}; "burned": redeemed and discarded).`,
        labelNames: ['result'],
        registers,
      },
      BURN_RESULTS,
    ),
    pendingFlows: new Gauge({
      name: 'postiz_cli_auth_pending_flows',
      help: 'Live flows waiting for their user (all instances).',
      registers,
      async collect() {
        try {
          this.set(await options.countPending());
        } catch {
          // The database is down: /ready says so; keep the last value rather than fail the scrape.
        }
      },
    }),
    heldPolls: new Gauge({
      name: 'postiz_cli_auth_held_polls',
      help: 'Polls held open on this instance right now (Prefer: wait, POLL_WAIT_SECONDS).',
      registers,
      collect() {
        this.set(options.countHeld());
      },
    }),
    notificationsWorking: new Gauge({
      name: 'postiz_cli_auth_notifications_working',
      help: 'Whether this instance hears flow changes through LISTEN/NOTIFY (1), or only by re-checking every second (0: a transaction pooler in the way, see DATABASE_DIRECT_URL).',
      registers,
    }),
    webhookOutbox: new Gauge({
      name: 'postiz_cli_auth_webhook_outbox',
      help: `Webhook events in the outbox (all instances), by state: ${listed(OUTBOX_STATES)} ("pending": not yet at every endpoint; "failed": given up).`,
      labelNames: ['state'],
      registers,
      async collect() {
        try {
          const counts = (await options.countOutbox?.()) ?? { pending: 0, failed: 0 };
          for (const state of OUTBOX_STATES) this.set({ state }, counts[state]);
        } catch {
          // The database is down: /ready says so; keep the last values rather than fail the scrape.
        }
      },
    }),
    webhookAttempts: labelledCounter(
      {
        name: 'postiz_cli_auth_webhook_attempts_total',
        help: `Webhook POSTs, one per event and endpoint tried, by result: ${listed(WEBHOOK_ATTEMPT_RESULTS)} ("delivered": a 2xx).`,
        labelNames: ['result'],
        registers,
      },
      WEBHOOK_ATTEMPT_RESULTS,
    ),
    webhookEvents: labelledCounter(
      {
        name: 'postiz_cli_auth_webhook_events_total',
        help: `Webhook events finished by this instance, by result: ${listed(WEBHOOK_EVENT_RESULTS)} ("given_up": an endpoint still lacked it a day after the login).`,
        labelNames: ['result'],
        registers,
      },
      WEBHOOK_EVENT_RESULTS,
    ),
    webhookDelivery: new Histogram({
      name: 'postiz_cli_auth_webhook_delivery_seconds',
      help: "From a login's end to the last endpoint's 2xx for its event.",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'postiz_cli_auth_http_request_duration_seconds',
      help: 'HTTP request durations, by route.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 20],
      registers,
    }),
  };
}
