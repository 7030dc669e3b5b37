/**
 * Each instance's memory of live, pending flows, so that most polls ("still pending") cost no
 * database round trip, and the polls held open while they wait (RFC 7240 `Prefer: wait`).
 *
 * It is only ever a cache of "pending": an entry is dropped the moment a notification says the
 * flow changed (on any instance), when a periodic batch re-check finds it changed, when it
 * expires, and all at once when the notification listener reconnects. A dropped entry means
 * the next poll asks the database, so a missed notification costs seconds, never a login.
 */

/** What a poll needs to answer "pending" or "slow down" without the database. */
export interface PendingEntry {
  flowId: string;
  expiresAt: number;
  intervalSeconds: number;
  /** Arrival time of the previous poll seen by this instance (ms), for `slow_down`; held polls count by arrival (docs/security.md, slow_down). */
  lastPollAt: number | null;
}

/**
 * Why a held poll woke up (`superseded`: a newer poll of the same device code took its place;
 * `gone`: its client's connection closed, so it answers no one).
 */
export type Wake = 'changed' | 'timeout' | 'shutdown' | 'superseded' | 'gone';

/** The connection a held poll answers on: it stops being held the moment the client goes. */
export interface Hangup {
  /** Whether the client has gone already. */
  readonly gone?: boolean;
  /** Call `listener` once when the client goes; returns a function that stops listening. */
  onGone?(listener: () => void): () => void;
}

interface Waiter {
  resolve: (wake: Wake) => void;
  timer: NodeJS.Timeout;
  /** Who holds it (the client's address), for the per-address cap. */
  holder: string;
}

/** Pending flows by device-code hash (hex), and the polls waiting on them. */
export class PendingMemory {
  private readonly entries = new Map<string, PendingEntry>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Held polls per holder; a holder with none has no entry. */
  private readonly heldBy = new Map<string, number>();
  private heldCount = 0;
  private closed = false;

  /** Number of polls being held open right now. */
  get held(): number {
    return this.heldCount;
  }

  get(key: string): PendingEntry | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: PendingEntry): void {
    this.entries.set(key, entry);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The flow changed (or is gone): forget it and wake its held polls. */
  invalidate(key: string): void {
    this.entries.delete(key);
    this.wake(key, 'changed');
  }

  /** Forget everything (e.g. the listener reconnected): every held poll takes a fresh look. */
  reset(): void {
    this.entries.clear();
    for (const key of [...this.waiters.keys()]) this.wake(key, 'changed');
  }

  /** Drop entries past their expiry (their next poll asks the database and learns `expired_token`). */
  sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.invalidate(key);
  }

  /**
   * Hold a poll until its flow changes, `ms` pass, the server shuts down, or its client goes
   * (`hangup`: it is released at once, freeing its place under the cap). A poll of a device
   * code that already has one held takes its place (the earlier one wakes as `superseded`), so
   * one device code never holds more than one connection. A `holder` already holding
   * `maxPerHolder` polls is not held at all (`timeout` at once).
   */
  wait(
    key: string,
    ms: number,
    holder = '',
    maxPerHolder = Number.POSITIVE_INFINITY,
    hangup?: Hangup,
  ): Promise<Wake> {
    if (this.closed || ms <= 0) return Promise.resolve(this.closed ? 'shutdown' : 'timeout');
    if (hangup?.gone) return Promise.resolve('gone');
    this.wake(key, 'superseded');
    const holding = this.heldBy.get(holder) ?? 0;
    if (holding >= maxPerHolder) return Promise.resolve('timeout');
    this.heldBy.set(holder, holding + 1);
    this.heldCount++;
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set<Waiter>();
      const leave = () => {
        set.delete(waiter);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
      };
      let stopListening: (() => void) | undefined;
      const waiter: Waiter = {
        resolve: (wake) => {
          stopListening?.();
          this.release(holder);
          resolve(wake);
        },
        holder,
        timer: setTimeout(() => {
          leave();
          waiter.resolve('timeout');
        }, ms),
      };
      set.add(waiter);
      this.waiters.set(key, set);
      stopListening = hangup?.onGone?.(() => {
        clearTimeout(waiter.timer);
        leave();
        waiter.resolve('gone');
      });
    });
  }

  private release(holder: string): void {
    this.heldCount--;
    const holding = (this.heldBy.get(holder) ?? 1) - 1;
    if (holding > 0) this.heldBy.set(holder, holding);
    else this.heldBy.delete(holder);
  }

  /** Shutting down: answer every held poll now, and hold no more. */
  close(): void {
    this.closed = true;
    for (const key of [...this.waiters.keys()]) this.wake(key, 'shutdown');
  }

  private wake(key: string, wake: Wake): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const waiter of set) {
      clearTimeout(waiter.timer);
      waiter.resolve(wake);
    }
  }
}
