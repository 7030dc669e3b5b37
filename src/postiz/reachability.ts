/**
 * Whether Postiz can be reached at POSTIZ_API_URL, known before a user's login fails at the
 * code exchange: a HEAD of its public API without a token. Any HTTP answer (401 included)
 * means reachable; a network error or no answer means not. Checked at start-up, then
 * periodically and when /ready asks and the last check is stale; each change of state is
 * logged once, with the cause.
 */
import type { FastifyBaseLogger } from 'fastify';
import { networkCause } from './network-error.js';

export type Reachability = 'reachable' | 'unreachable' | 'unknown';

export interface PostizProbe {
  /** The last known state; starts a check in the background when it is older than `maxAgeMs`. */
  state(): Reachability;
  /** Check now (a check already under way is shared). */
  check(): Promise<Reachability>;
  /** Check every `intervalMs` (unref'd) until `stop()`. */
  start(intervalMs: number): void;
  stop(): void;
}

export interface ProbeOptions {
  apiUrl: string;
  timeoutMs: number;
  log?: FastifyBaseLogger;
  /** How old a result may be before `state()` asks again (default 30 s). */
  maxAgeMs?: number;
  /** Told of every result (a metric). */
  onResult?: (state: Reachability) => void;
  now?: () => number;
}

/** The path asked: Postiz's public API answers it (401 without a token) without touching anything. */
export const PROBE_PATH = '/public/v1/is-connected';

/** A probe of `apiUrl`; nothing is sent until `state()`, `check()` or `start()`. */
export function createPostizProbe(options: ProbeOptions): PostizProbe {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  const target = `${options.apiUrl}${PROBE_PATH}`;
  let current: Reachability = 'unknown';
  let checkedAt = Number.NEGATIVE_INFINITY;
  let running: Promise<Reachability> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let controller = new AbortController();

  const settle = (next: Reachability, cause?: string): Reachability => {
    checkedAt = now();
    options.onResult?.(next);
    if (next !== current) {
      const where = `POSTIZ_API_URL (${options.apiUrl})`;
      if (next === 'unreachable') {
        options.log?.warn(
          { postiz: next, postizApiUrl: options.apiUrl, cause },
          `${where} cannot be reached: ${cause}. Logins will fail at the code exchange until it can.`,
        );
      } else if (current === 'unreachable') {
        options.log?.info({ postiz: next, postizApiUrl: options.apiUrl }, `${where} can be reached again`);
      } else {
        options.log?.info({ postiz: next, postizApiUrl: options.apiUrl }, `${where} can be reached`);
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
      return stopped ? current : settle('reachable');
    } catch (err) {
      if (stopped) return current;
      const timedOut = (err as Error).name === 'TimeoutError';
      return settle('unreachable', timedOut ? `no answer within ${options.timeoutMs} ms` : networkCause(err));
    }
  };

  const check = (): Promise<Reachability> => {
    running ??= probe().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    state() {
      if (!stopped && now() - checkedAt > maxAgeMs) void check();
      return current;
    },
    check,
    start(intervalMs) {
      stopped = false;
      controller = new AbortController();
      clearInterval(timer);
      void check();
      timer = setInterval(() => void check(), intervalMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      controller.abort();
    },
  };
}
