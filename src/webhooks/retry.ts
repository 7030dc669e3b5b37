/**
 * When a webhook that did not reach every endpoint is tried again: after each failed attempt,
 * the next step of a schedule, give or take a random share (so that events failed together do
 * not all come back together), until the event is a day old; then it is given up.
 */

/** The wait after the 1st, 2nd, … failed attempt; the last step repeats. */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000,
];
/** Each wait is this share longer or shorter, at random. */
export const RETRY_JITTER = 0.2;
/** No attempt is made later than this after the event: it is given up instead. */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;

export interface RetryPolicy {
  scheduleMs: readonly number[];
  jitter: number;
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  scheduleMs: RETRY_SCHEDULE_MS,
  jitter: RETRY_JITTER,
  giveUpAfterMs: GIVE_UP_AFTER_MS,
};

/**
 * After `attempts` failed attempts (the one just made included) at an event queued at
 * `queuedAt`: when to try again, or undefined when that would be past the policy's limit.
 */
export function nextAttempt(
  policy: RetryPolicy,
  attempts: number,
  queuedAt: Date,
  now: number,
  random: () => number = Math.random,
): Date | undefined {
  const step = policy.scheduleMs[Math.min(Math.max(attempts, 1), policy.scheduleMs.length) - 1] ?? 0;
  const wait = step * (1 + policy.jitter * (2 * random() - 1));
  const at = now + wait;
  return at > queuedAt.getTime() + policy.giveUpAfterMs ? undefined : new Date(at);
}
