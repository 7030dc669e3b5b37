/**
 * Whether the provider can be reached, known before a user's login fails at the code exchange:
 * a HEAD of its `probeUrl` (Postiz: its public API, without a token). Any HTTP answer (401
 * included) means reachable; a network error or no answer means not. Checked at start-up, then
 * periodically and when /ready asks and the last check is stale; each change of state is logged
 * once, with the cause.
 */
import type { FastifyBaseLogger } from 'fastify';
import { networkCause } from './network-error.js';
import { periodic } from './periodic.js';

export type Reachability = 'reachable' | 'unreachable' | 'unknown';

export interface ReachabilityProbe {
  /** The last known state; starts a check in the background when it is older than `maxAgeMs`. */
  state(): Reachability;
  /** Check now (a check already under way is shared). */
  check(): Promise<Reachability>;
  /** Check every `intervalMs` (unref'd) until `stop()`. */
  start(intervalMs: number): void;
  stop(): void;
}

export interface ProbeOptions {
  /** What to ask (`Upstream.probeUrl`). */
  url: string;
  /** How the log names where it is (`POSTIZ_API_URL (https://…)`). */
  where: string;
  timeoutMs: number;
  log?: FastifyBaseLogger;
  /** How old a result may be before `state()` asks again (default 30 s). */
  maxAgeMs?: number;
  /** Told of every result (a metric). */
  onResult?: (state: Reachability) => void;
  now?: () => number;
}

/** A probe of `url`; nothing is sent until `state()`, `check()` or `start()`. */
export function createReachabilityProbe(options: ProbeOptions): ReachabilityProbe {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  const target = options.url;
  let current: Reachability = 'unknown';
  let checkedAt = Number.NEGATIVE_INFINITY;
  let controller = new AbortController();

  const settle = (next: Reachability, cause?: string): Reachability => {
    checkedAt = now();
    options.onResult?.(next);
    if (next !== current) {
      const { where } = options;
      if (next === 'unreachable') {
        options.log?.warn(
          { upstream: next, url: options.url, cause },
          `${where} cannot be reached: ${cause}. Logins will fail at the code exchange until it can.`,
        );
      } else if (current === 'unreachable') {
        options.log?.info({ upstream: next, url: options.url }, `${where} can be reached again`);
      } else {
        options.log?.info({ upstream: next, url: options.url }, `${where} can be reached`);
      }
      current = next;
    }
    return next;
  };

  const probe = async (): Promise<Reachability> => {
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(options.timeoutMs)]);
    try {
      const response = await fetch(target, { method: 'HEAD', redirect: 'manual', signal });
      await response.body?.cancel().catch(() => {});
      return schedule.stopped ? current : settle('reachable');
    } catch (err) {
      if (schedule.stopped) return current;
      const timedOut = (err as Error).name === 'TimeoutError';
      return settle('unreachable', timedOut ? `no answer within ${options.timeoutMs} ms` : networkCause(err));
    }
  };

  const schedule = periodic(probe, {
    onStart: () => {
      controller = new AbortController();
    },
    // A probe under way is cut short, so that shutting down waits for none.
    onStop: () => controller.abort(),
  });

  return {
    state() {
      if (!schedule.stopped && now() - checkedAt > maxAgeMs) void schedule.check();
      return current;
    },
    check: schedule.check,
    start: schedule.start,
    stop: schedule.stop,
  };
}
