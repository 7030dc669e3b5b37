/**
 * What the flow and the HTTP layer report, turned into log lines and metrics: the flow
 * service's observer, and the per-request duration histogram.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { FlowEventName, FlowObserver } from './device-flow/flow-service.js';
import type { FlowOutcome, Metrics } from './metrics.js';

const FINAL_OUTCOMES: Partial<Record<FlowEventName, FlowOutcome>> = {
  delivered: 'delivered',
  denied: 'denied',
  cancelled: 'cancelled',
  blocked: 'blocked',
  expired: 'expired',
  failed: 'failed',
  refused: 'refused',
};

/** An outage makes every request fail the same way: one line per kind of trouble this often. */
const TROUBLE_EVERY_MS = 10_000;

/** A labelled metric's children by label value, made once: prom-client hashes its labels on every call otherwise. */
function children<T>(make: (label: string) => T): (label: string) => T {
  const made = new Map<string, T>();
  return (label) => {
    let child = made.get(label);
    if (!child) {
      child = make(label);
      made.set(label, child);
    }
    return child;
  };
}

/**
 * The flow service's observer: log lines (never a secret: events carry ids and codes of results)
 * and metrics. `refusedUs` is the line an operator reads when the provider refuses this server's
 * own credentials: it names the provider and the settings to check (the profile's).
 */
export function createObserver(log: FastifyBaseLogger, metrics: Metrics, refusedUs: string): FlowObserver {
  const troubleLoggedAt = new Map<string, number>();
  const polls = children((result) => metrics.polls.labels(result));
  const databaseErrors = children((kind) => metrics.databaseErrors.labels(kind));
  return {
    flowEvent(event, flowId, fields) {
      const line = { event: `flow.${event}`, flowId, ...fields };
      if (fields?.operatorError) {
        log.error(line, refusedUs);
      } else if (
        event === 'failed' ||
        event === 'rejected_callback' ||
        event === 'returned' ||
        event === 'refused' ||
        event === 'refresh_failed' ||
        (event === 'code_burned' && fields?.result === 'burned')
      ) {
        // A burned code was live: someone's authorization reached a callback that refused it.
        // A returned token's answer found its client gone: the next poll will carry it.
        log.warn(line, `flow ${event}`);
      } else {
        log.info(line, `flow ${event}`);
      }
      if (event === 'started') metrics.flowsStarted.inc();
      // From the approval (stored with the flow, on whichever instance) to the token's delivery.
      if (event === 'delivered' && typeof fields?.sinceApprovalMs === 'number')
        metrics.approvalToToken.observe(Math.max(0, fields.sinceApprovalMs) / 1000);
      if (event === 'code_burned') metrics.codesBurned.inc({ result: String(fields?.result) });
      if (event === 'token_checked') metrics.tokenChecks.inc({ result: String(fields?.result) });
      const outcome = FINAL_OUTCOMES[event];
      if (outcome) metrics.flowsFinished.inc({ outcome });
    },
    trouble(kind, message, err) {
      databaseErrors(kind).inc();
      const last = troubleLoggedAt.get(message) ?? 0;
      if (Date.now() - last < TROUBLE_EVERY_MS) return;
      troubleLoggedAt.set(message, Date.now());
      log.warn({ err }, message);
    },
    rateLimited(route) {
      metrics.rateLimited.inc({ route });
    },
    notifications(state) {
      metrics.notificationsWorking.set(state === 'working' ? 1 : 0);
      if (state === 'lost') {
        log.warn(
          { notifications: state },
          'flow notifications sent through DATABASE_URL do not come back on the LISTEN connection: a connection pooler in transaction mode (PgBouncer, for one) drops LISTEN. Set DATABASE_DIRECT_URL to a direct connection to PostgreSQL. Meanwhile changes are noticed by re-checking every second.',
        );
      } else {
        log.info({ notifications: state }, 'flow notifications arrive');
      }
    },
    poll(result) {
      polls(result).inc();
    },
  };
}

/**
 * Every request's duration, by method, route and status
 * (`postiz_cli_auth_http_request_duration_seconds`); returns the recorder, for requests
 * answered outside Fastify (the poll's fast path).
 */
export function countRequests(
  app: FastifyInstance,
  metrics: Metrics,
): (method: string, route: string, statusCode: number, seconds: number) => void {
  const histogram = children((key) => {
    const [method = '', status = '', route = ''] = key.split(' ');
    return metrics.httpDuration.labels({ method, route, status_code: status });
  });
  const record = (method: string, route: string, statusCode: number, seconds: number) =>
    histogram(`${method} ${statusCode} ${route}`).observe(seconds);
  app.addHook('onResponse', (request, reply, done) => {
    record(request.method, request.routeOptions.url ?? 'unknown', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  return record;
}
