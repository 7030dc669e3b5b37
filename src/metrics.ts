/**
 * Prometheus metrics (prom-client), one registry per app so tests and several apps in one
 * process never share counters.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Reachability } from './postiz/reachability.js';
import { type BuildInfo, buildInfo } from './version.js';

/** `refused`: Postiz refused the new token (no subscription, or another refusal of its public API). */
export type FlowOutcome = 'delivered' | 'denied' | 'cancelled' | 'expired' | 'failed' | 'refused';

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
  databaseErrors: Counter<'kind'>;
  approvalToToken: Histogram;
}

/** Create the registry; `pendingFlows` asks `countPending` when scraped. */
export function createMetrics(options: {
  countPending: () => Promise<number>;
  /** Polls held open on this instance right now. */
  countHeld: () => number;
  defaultMetrics?: boolean;
  /** Whether Postiz answered its last check (`postiz_cli_auth_postiz_reachable`). */
  postizState?: () => Reachability;
  /** What `postiz_cli_auth_build_info` says (default: this build). */
  build?: BuildInfo;
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
    databaseErrors: new Counter({
      name: 'postiz_cli_auth_database_errors_total',
      help: 'Database failures the server survived, by what it was doing: poll, callback, notifications, recheck, rate_limit, pacing, delivery, login_history, purge, other.',
      labelNames: ['kind'],
      registers,
    }),
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
    registry,
    flowsStarted: new Counter({
      name: 'postiz_cli_auth_flows_started_total',
      help: 'Device flows started.',
      registers,
    }),
    flowsFinished: new Counter({
      name: 'postiz_cli_auth_flows_finished_total',
      help: 'Device flows finished, by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    polls: new Counter({
      name: 'postiz_cli_auth_polls_total',
      help: 'Token endpoint polls, by result (the OAuth error code, or "token").',
      labelNames: ['result'],
      registers,
    }),
    upstreamDuration: new Histogram({
      name: 'postiz_cli_auth_upstream_request_duration_seconds',
      help: 'Duration of token exchanges with Postiz.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers,
    }),
    upstreamRequests: new Counter({
      name: 'postiz_cli_auth_upstream_requests_total',
      help: 'Token exchanges with Postiz, by HTTP status (or "timeout"/"error").',
      labelNames: ['status'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'postiz_cli_auth_rate_limited_total',
      help: 'Requests refused by a rate limit, by route.',
      labelNames: ['route'],
      registers,
    }),
    tokenChecks: new Counter({
      name: 'postiz_cli_auth_token_checks_total',
      help: 'New tokens checked at Postiz\'s public API before they are handed over, by result ("working"; "no_subscription" and "token_refused": the login ended with an error the CLI prints; "unchecked": Postiz could not be asked, the token was handed over).',
      labelNames: ['result'],
      registers,
    }),
    codesBurned: new Counter({
      name: 'postiz_cli_auth_codes_burned_total',
      help: 'Postiz codes that reached a refused callback (recorded, so never exchanged), by what became of them at Postiz ("burned": redeemed and discarded; "rejected", "failed", "limited", "repeated", "subresource", "malformed").',
      labelNames: ['result'],
      registers,
    }),
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
    httpDuration: new Histogram({
      name: 'postiz_cli_auth_http_request_duration_seconds',
      help: 'HTTP request durations, by route.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 20],
      registers,
    }),
  };
}
