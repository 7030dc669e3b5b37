/**
 * RFC 8628 §3.5 `slow_down`, defined once for memory (`FlowService`) and the database
 * (`Store.recordPoll`): a poll sooner than the interval, less a tolerance for network jitter
 * and a server running late, raises the interval by 5 s. The tolerance is 2 s, and never more
 * than 40% of the interval (the soak test showed 1 s was not enough on a loaded machine). The
 * postiz CLI waits its whole interval after each answer, so it never sees `slow_down`.
 */

/** The tolerance: `ms`, at most `share` of the interval. */
export interface PollTolerance {
  ms: number;
  share: number;
}

export const POLL_TOLERANCE: PollTolerance = { ms: 2000, share: 0.4 };

/** Seconds a `slow_down` adds to the interval (RFC 8628 §3.5). */
export const SLOW_DOWN_STEP_SECONDS = 5;

/** Whether a poll at `now` comes too soon after the one at `last` (ms; null: none before). */
export function tooSoon(last: number | null, intervalSeconds: number, now: number): boolean {
  if (last === null) return false;
  const intervalMs = intervalSeconds * 1000;
  return now < last + intervalMs - Math.min(POLL_TOLERANCE.ms, intervalMs * POLL_TOLERANCE.share);
}
