/**
 * The pending cache's upkeep: which pending flows this instance may answer from memory, and
 * keeping that memory true. It hears every instance's flow changes (LISTEN/NOTIFY through the
 * store), checks that its own test notifications come back (a transaction pooler drops
 * LISTEN), and re-checks the cached flows against the database now and then, in case a
 * notification was missed (docs/deploy.md, "Several instances"). While changes are not being
 * heard it caches nothing and holds no poll, so every poll asks the database.
 */
import type { Store } from '../storage/store.js';
import type { TroubleKind } from './events.js';
import { type Hangup, type PendingEntry, PendingMemory, type Wake } from './pending-memory.js';

/** Whether flow changes sent through the database come back to this instance. */
export type NotificationState = 'checking' | 'working' | 'lost';

/** How often cached pending flows are re-checked against the database, in one batch. */
const RECHECK_MS = 10_000;
/**
 * The same while notifications are not arriving (a transaction pooler drops LISTEN): the
 * re-check is then what notices approvals, so it runs every second.
 */
const LOST_RECHECK_MS = 1000;
/** How long a test notification may take to come back, and how often it is sent again while lost. */
const PROBE_TIMEOUT_MS = 2000;
const PROBE_AGAIN_MS = 30_000;
const RECHECK_BATCH = 5000;

export interface PendingCacheDeps {
  store: Store;
  /** What the cache reports (the flow service's observer has both). */
  observer: {
    /** The notification state changed (`lost`: the re-check every second is what notices changes). */
    notifications(state: NotificationState): void;
    /** Something failed and was survived (database, listener). */
    trouble(kind: TroubleKind, message: string, err: unknown): void;
  };
  now: () => number;
}

/** Pending flows this instance knows, and the polls held open on them. */
export class PendingCache {
  /** The entries and the held polls. */
  readonly view = new PendingMemory();
  /** Whether this instance's test notifications come back (`checking` until the first answer). */
  notifications: NotificationState = 'checking';
  /** Whether flow changes are being heard; without that, nothing may be answered from memory. */
  private listening = false;
  private unsubscribe: (() => Promise<void>) | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private detached = false;
  private probedAt = 0;
  /** The re-check under way, if any: `detach` waits for it before the store closes. */
  private rechecking: Promise<void> | undefined;

  constructor(private readonly deps: PendingCacheDeps) {}

  /** The entry of a pending flow, when it may be answered from memory. */
  get(key: string): PendingEntry | undefined {
    return this.listening ? this.view.get(key) : undefined;
  }

  /** Cache a pending flow, unless changes are not being heard (then nothing is cached). */
  remember(key: string, entry: PendingEntry): void {
    if (this.listening) this.view.set(key, entry);
  }

  /** The flow changed or is gone: forget it and wake its held polls. */
  invalidate(key: string): void {
    this.view.invalidate(key);
  }

  /**
   * Hold a poll until its flow changes, `ms` pass or its client goes (at most `maxPerHolder`
   * per holder, an address); without changes being heard nothing is held: `timeout` at once.
   */
  wait(key: string, ms: number, holder: string, maxPerHolder: number, hangup?: Hangup): Promise<Wake> {
    return this.listening
      ? this.view.wait(key, ms, holder, maxPerHolder, hangup)
      : Promise.resolve('timeout');
  }

  /** Start hearing flow changes from every instance, and re-checking the cache. */
  async attach(): Promise<void> {
    const { store, observer } = this.deps;
    this.unsubscribe = await store.subscribe({
      onEvent: (event) => this.view.invalidate(event.key),
      onLost: () => {
        this.listening = false;
        this.view.reset();
      },
      onRestored: () => {
        this.view.reset();
        this.listening = true;
        void this.checkNotifications();
      },
      onError: (err) =>
        observer.trouble('notifications', 'flow notifications: connection problem, reconnecting', err),
    });
    this.listening = true;
    // In the background: a working LISTEN answers in milliseconds, a lost one only by timing out.
    void this.checkNotifications();
    this.scheduleRecheck();
  }

  /** The next re-check, sooner while notifications are lost (and a new test of them now and then). */
  private scheduleRecheck(): void {
    if (this.detached) return;
    const ms = this.notifications === 'lost' ? LOST_RECHECK_MS : RECHECK_MS;
    this.recheckTimer = setTimeout(() => {
      if (this.notifications === 'lost' && performance.now() - this.probedAt >= PROBE_AGAIN_MS) {
        void this.checkNotifications();
      }
      this.rechecking = this.recheck()
        .catch((err) =>
          this.deps.observer.trouble('recheck', 're-check of cached flows failed; will retry', err),
        )
        .finally(() => {
          this.rechecking = undefined;
          this.scheduleRecheck();
        });
    }, ms);
    this.recheckTimer.unref();
  }

  /** Send a test notification and record whether it came back; tell the observer of a change. */
  private async checkNotifications(): Promise<void> {
    this.probedAt = performance.now();
    let arrived: boolean;
    try {
      arrived = await this.deps.store.notificationsArrive(PROBE_TIMEOUT_MS);
    } catch (err) {
      this.deps.observer.trouble('notifications', 'could not send a test notification; will retry', err);
      return;
    }
    const state = arrived ? 'working' : 'lost';
    if (this.detached || state === this.notifications) return;
    this.notifications = state;
    this.deps.observer.notifications(state);
    // The pace of the re-check depends on the state: start the new one now, unless one runs
    // (it schedules the next itself).
    if (!this.rechecking) {
      clearTimeout(this.recheckTimer);
      this.scheduleRecheck();
    }
  }

  /** Answer every held poll now (they answer `authorization_pending`), and stop listening. */
  async detach(): Promise<void> {
    this.detached = true;
    this.view.close();
    this.listening = false;
    clearTimeout(this.recheckTimer);
    await this.rechecking;
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /**
   * Drop expired entries, then, on PostgreSQL, one round trip per 5,000 cached flows: drop
   * those that changed while a notification was missed, and adopt intervals that another
   * instance raised (only those flows come back). PGlite is this process's own
   * database: every change is made here and notified here, so there is nothing to miss, and
   * the queries would run on this thread, blocking it for a noticeable share of every
   * re-check (docs/performance.md, "Figures behind the code").
   */
  async recheck(): Promise<void> {
    const now = this.deps.now();
    this.view.sweep(now);
    if (this.deps.store.kind === 'pglite') return;
    const keys = this.view.keys();
    for (let i = 0; i < keys.length; i += RECHECK_BATCH) {
      const cached = [];
      for (const key of keys.slice(i, i + RECHECK_BATCH)) {
        const entry = this.view.get(key);
        if (entry) cached.push({ key, intervalSeconds: entry.intervalSeconds });
      }
      for (const [key, state] of await this.deps.store.staleFlows(cached)) {
        const entry = this.view.get(key);
        if (state?.status !== 'pending') this.view.invalidate(key);
        else if (entry) entry.intervalSeconds = Math.max(entry.intervalSeconds, state.intervalSeconds);
      }
    }
  }
}
