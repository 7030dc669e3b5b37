/**
 * RFC 8628 §3.5 `slow_down`, defined once for memory (`FlowService`) and the database
 * (`Store.recordPoll`): a poll sooner than the interval, less a tolerance for network jitter
 * and a server running late, comes too soon. The tolerance is 2 s, and never more than 40% of
 * the interval (the soak test showed 1 s was not enough on a loaded machine).
 *
 * What a poll that comes too soon gets depends on the client. An RFC 8628 client (it sends
 * `grant_type`) gets `slow_down`, and its interval grows by 5 s. The CLI (it sends no
 * `grant_type`) ends its login on any error but `authorization_pending` and `expired_token`,
 * so its early polls (a retry after a cut connection, a second terminal) are paced instead:
 * held until they are due, then answered as usual (docs/clients.md).
 */
/** The tolerance: `ms`, at most `share` of the interval. */
export interface PollTolerance {
  ms: number;
  share: number;
}

export const POLL_TOLERANCE: PollTolerance = { ms: 2000, share: 0.4 };

/** Seconds a `slow_down` adds to the interval (RFC 8628 §3.5). */
export const SLOW_DOWN_STEP_SECONDS = 5;

/** The earliest time (ms) a poll after the one at `last` is not too soon (null: none before, any time). */
export function dueAt(last: number | null, intervalSeconds: number): number {
  if (last === null) return Number.NEGATIVE_INFINITY;
  const intervalMs = intervalSeconds * 1000;
  return last + intervalMs - Math.min(POLL_TOLERANCE.ms, intervalMs * POLL_TOLERANCE.share);
}

/**
 * `dueAt` as SQL, for the statement that records a poll in the database (`Store.recordPoll`):
 * the same rule over a row's `lastPoll` (timestamptz) and `intervalSeconds` (integer) columns,
 * NULL when there was no poll before. test/device-flow/pacing.test.ts checks both give the same
 * times.
 */
export function dueAtSql(lastPoll: string, intervalSeconds: string): string {
  return `${lastPoll} + (${intervalSeconds} * 1000 - LEAST(${POLL_TOLERANCE.ms}, ${intervalSeconds} * 1000 * ${POLL_TOLERANCE.share})) * interval '1 millisecond'`;
}

/** Whether a poll at `now` comes too soon after the one at `last` (ms; null: none before). */
export function tooSoon(last: number | null, intervalSeconds: number, now: number): boolean {
  return now < dueAt(last, intervalSeconds);
}
