/**
 * A check of the provider run now and then every so often (its reachability, its acceptance of
 * this server's credentials): one run at a time, which callers arriving meanwhile share, on a
 * timer that never holds the process open.
 */

export interface Periodic<T> {
  /** Run now, or share the run under way. */
  check(): Promise<T>;
  /** Run now, then every `intervalMs` until `stop()`. */
  start(intervalMs: number): void;
  stop(): void;
  /** Whether `stop()` was called since the last `start()`: a run ending then reports nothing. */
  readonly stopped: boolean;
}

/** `run` as a periodic check; `onStart` and `onStop` are told when it starts and stops. */
export function periodic<T>(
  run: () => Promise<T>,
  hooks: { onStart?: () => void; onStop?: () => void } = {},
): Periodic<T> {
  let running: Promise<T> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const check = (): Promise<T> => {
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };
  return {
    check,
    get stopped() {
      return stopped;
    },
    start(intervalMs) {
      stopped = false;
      hooks.onStart?.();
      clearInterval(timer);
      void check();
      timer = setInterval(() => void check(), intervalMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      hooks.onStop?.();
    },
  };
}
