/**
 * What the flow reports, and how it waits out a database outage: the observer's interface
 * (logs and metrics live in `src/observability.ts`, never here), and `FlowEvents`, which the
 * parts of the flow share to report an event with the request it happened in.
 */
import { isDatabaseUnavailable } from '../storage/database-errors.js';
import type { NotificationState } from './pending-cache.js';

/** What happened to a flow, for logs and metrics (never carries a secret). */
export type FlowEventName =
  | 'started'
  | 'code_entered'
  | 'confirmed'
  | 'approved'
  | 'denied'
  | 'cancelled'
  | 'blocked'
  | 'expired'
  | 'delivered'
  | 'redelivered'
  | 'failed'
  | 'rejected_callback'
  | 'code_burned'
  | 'displaced'
  | 'returned'
  | 'token_checked'
  | 'refused'
  | 'refreshed'
  | 'refresh_failed';

/**
 * What the server was doing when the database failed (the `kind` label of
 * `postiz_cli_auth_database_errors_total`): each trouble names its own, so none is told by its
 * wording.
 */
export const TROUBLE_KINDS = [
  'poll',
  'callback',
  'recheck',
  'notifications',
  'rate_limit',
  'pacing',
  'delivery',
  'login_history',
  'audit',
  'webhooks',
  'purge',
] as const;
export type TroubleKind = (typeof TROUBLE_KINDS)[number];

export interface FlowObserver {
  /** The notification state changed (`lost`: the re-check every second is what notices changes). */
  notifications(state: NotificationState): void;
  /** `flowId` is absent when no flow is known (a callback with an unknown state). */
  flowEvent(event: FlowEventName, flowId: string | undefined, fields?: Record<string, unknown>): void;
  /** Something outside the flow failed (database, listener) and was survived, while doing `kind`. */
  trouble(kind: TroubleKind, message: string, err: unknown): void;
  rateLimited(route: 'device_code' | 'verify' | 'token' | 'refresh'): void;
  poll(result: string): void;
}

/** How long a step that holds a token (the callback) keeps retrying the database while it is unreachable. */
const RETRY_MS = 30_000;

/** The observer, as the parts of the flow use it. */
export class FlowEvents {
  constructor(private readonly observer: FlowObserver) {}

  /** Report a flow event with the request it happened in (never a secret in `fields`). */
  flow(
    name: FlowEventName,
    flowId: string | undefined,
    caller: { reqId?: string },
    fields?: Record<string, unknown>,
  ): void {
    this.observer.flowEvent(name, flowId, { reqId: caller.reqId, ...fields });
  }

  trouble(kind: TroubleKind, message: string, err: unknown): void {
    this.observer.trouble(kind, message, err);
  }

  rateLimited(route: 'device_code' | 'verify' | 'token' | 'refresh'): void {
    this.observer.rateLimited(route);
  }

  /** Retry a store call while the database is unreachable, for a bounded time (the step holds something that will not come back). */
  async retrying<T>(
    fn: () => Promise<T>,
    what = 'database unreachable during a callback; retrying',
    kind: TroubleKind = 'callback',
  ): Promise<T> {
    const deadline = performance.now() + RETRY_MS;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await fn();
      } catch (err) {
        if (!isDatabaseUnavailable(err) || performance.now() + delay > deadline) throw err;
        this.observer.trouble(kind, what, err);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
