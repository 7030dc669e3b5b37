/**
 * The webhook sender (docs/deploy.md, "Audit trail and webhooks"): every instance runs one when
 * `WEBHOOK_URL` is set. The statement that ends a flow queues its event in the outbox
 * (migrations/015); any instance claims it under a lease, POSTs it signed to each endpoint that
 * has not had it yet, and records what became of it: delivered, retried later (`retry.ts`), or
 * given up after a day. At least once: an instance that dies mid-send leaves its lease to run
 * out, and another sends again. Nothing in a login waits on it: it reads only the outbox.
 */
import type { Organizations } from '../device-flow/organizations.js';
import type { OutboxItem, OutboxUpdate, Store } from '../storage/store.js';
import { asEndpointKey, type Endpoint, endpoint } from './endpoint.js';
import { WebhookSigner, webhookMessage } from './message.js';
import { DEFAULT_RETRY, nextAttempt, type RetryPolicy } from './retry.js';

/** What the sender logs through (pino's methods). */
export interface WebhookLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** What the sender counts (src/metrics.ts). */
export interface WebhookObserver {
  /** One POST to one endpoint: a 2xx, or not. */
  attempt(result: 'delivered' | 'failed'): void;
  /** Every endpoint has the event, `seconds` after it happened. */
  delivered(seconds: number): void;
  givenUp(): void;
  /** The database failed the sender (it tries again at its next poll). */
  databaseError(): void;
}

export interface WebhookSenderOptions {
  store: Store;
  /** `WEBHOOK_URL`: every endpoint each event goes to. */
  urls: readonly string[];
  /** `WEBHOOK_SECRET`. */
  secret: string;
  /** `WEBHOOK_TIMEOUT_MS`: how long one POST may take. */
  timeoutMs: number;
  /** Opens the events' sealed organisation ids. */
  organizations: Organizations;
  log: WebhookLog;
  observer: WebhookObserver;
  /** The clock the outbox is scheduled by (the app's, so tests can move it). */
  now?: () => number;
  /** When failed events are tried again (default `DEFAULT_RETRY`; tests use short waits). */
  retry?: RetryPolicy;
  /** How often the outbox is read for due retries and missed notifications (default 5 s). */
  pollIntervalMs?: number;
  /** Events being sent at once by this instance (default 4). */
  concurrency?: number;
  /** How long a claim keeps other instances off an event (default: the timeout and 30 s). */
  leaseMs?: number;
  /** On `stop`, how long sends under way may finish before they are cut (default: the timeout). */
  stopGraceMs?: number;
}

const DEFAULT_POLL_MS = 5_000;
const DEFAULT_CONCURRENCY = 4;
const LEASE_MARGIN_MS = 30_000;
/** A database that fails the sender is logged at most this often (it keeps trying every poll). */
const TROUBLE_EVERY_MS = 10_000;

/** Why a POST did not succeed, in a few words (never the URL's secrets: the caller names the endpoint). */
function describeFailure(err: unknown, timeoutMs: number): string {
  const error = err as Error & { cause?: { code?: string; message?: string } };
  if (error?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (error?.name === 'AbortError') return 'stopped';
  const cause = error?.cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return error?.message ?? String(err);
}

/** Sends the outbox's events, from `start()` until `stop()`. */
export class WebhookSender {
  private readonly endpoints: Endpoint[];
  private readonly signer: WebhookSigner;
  private readonly now: () => number;
  private readonly retry: RetryPolicy;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  /** Sends under way, each settling its item when done. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Cuts the sends under way short, at `stop`. */
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private closed = false;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  /** The last claim stopped for want of room, not of due items: claim again as sends end. */
  private backlog = false;
  private troubleAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: WebhookSenderOptions) {
    this.endpoints = options.urls.map((url) => endpoint(url, options.secret));
    this.signer = new WebhookSigner(options.secret);
    this.now = options.now ?? Date.now;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.leaseMs = options.leaseMs ?? options.timeoutMs + LEASE_MARGIN_MS;
  }

  /** Hear the outbox's notifications, read it every few seconds, and send what is due now. */
  async start(): Promise<void> {
    this.unsubscribe = await this.options.store.subscribeOutbox({
      onQueued: () => this.wake(),
      onRestored: () => this.wake(),
      onError: () => {
        // The flows' subscriber on the same connection reports it; the poll covers the gap.
      },
    });
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs ?? DEFAULT_POLL_MS);
    this.timer.unref();
    this.wake();
  }

  /**
   * Stop claiming; give the sends under way until the grace to finish, then cut them (their
   * events are released for the next instance to send at once). Before the store closes.
   */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.unsubscribe?.().catch(() => {});
    await this.pumping;
    const grace = this.options.stopGraceMs ?? this.options.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.inFlight),
      new Promise((resolve) => {
        timer = setTimeout(resolve, grace);
      }),
    ]);
    clearTimeout(timer);
    this.stopping.abort();
    await Promise.all(this.inFlight);
  }

  /** Claim and send what is due, now (or once the claim under way is done). */
  wake(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
    });
  }

  /** Claim items while there is room for more sends, and start sending them. */
  private async pump(): Promise<void> {
    do {
      this.pumpAgain = false;
      this.backlog = false;
      while (!this.closed) {
        const room = this.concurrency - this.inFlight.size;
        if (room <= 0) {
          // More may be due: the next send to end wakes the sender again.
          this.backlog = true;
          break;
        }
        let items: OutboxItem[];
        try {
          items = await this.options.store.claimOutbox(new Date(this.now()), this.leaseMs, room);
        } catch (err) {
          this.trouble('could not read the webhook outbox; will retry', err);
          return;
        }
        for (const item of items) this.track(this.send(item));
        if (items.length < room) break;
      }
    } while (this.pumpAgain && !this.closed);
  }

  private track(sending: Promise<void>): void {
    const done: Promise<void> = sending.finally(() => {
      this.inFlight.delete(done);
      if (this.backlog) this.wake();
    });
    this.inFlight.add(done);
  }

  /** One attempt at an item: each endpoint that lacks it, at once; then record the result. */
  private async send(item: OutboxItem): Promise<void> {
    const { event } = item;
    const message = webhookMessage(event, this.options.organizations);
    // Keys, never URLs (endpoint.ts); a URL an instance of an earlier version wrote is rewritten as its key.
    const had = new Set(item.deliveredTo.map((entry) => asEndpointKey(entry, this.options.secret)));
    const due = this.endpoints.filter((e) => !had.has(e.key));
    const results = await Promise.all(
      due.map(async (target) => ({ target, failure: await this.post(target, message) })),
    );
    const deliveredTo = [...had, ...results.filter((r) => !r.failure).map((r) => r.target.key)];
    const failed = results.filter((r) => r.failure !== undefined);
    const now = this.now();
    let update: OutboxUpdate;
    if (failed.length === 0) {
      update = { state: 'delivered', deliveredTo };
      this.options.observer.delivered(Math.max(0, (now - event.at.getTime()) / 1000));
    } else if (this.stopping.signal.aborted && failed.every((r) => r.failure === 'stopped')) {
      // Cut short by this instance stopping: not the receiver's fault, so no wait and no warning.
      update = { state: 'pending', deliveredTo, nextAttemptAt: new Date(now), error: 'stopped' };
    } else {
      const error = failed.map((r) => `${r.target.shown}: ${r.failure}`).join('; ');
      for (const { target, failure } of failed) {
        this.options.log.warn(
          { endpoint: target.shown, eventId: event.eventId, attempt: item.attempts, cause: failure },
          'webhook attempt failed; will retry',
        );
      }
      const next = nextAttempt(this.retry, item.attempts, item.createdAt, now);
      if (next) update = { state: 'pending', deliveredTo, nextAttemptAt: next, error };
      else {
        update = { state: 'failed', deliveredTo, error };
        this.options.observer.givenUp();
        this.options.log.error(
          {
            eventId: event.eventId,
            flowId: event.flowId,
            attempts: item.attempts,
            endpoints: failed.map((r) => r.target.shown),
            cause: error,
          },
          'webhook given up: the event never reached every endpoint',
        );
      }
    }
    try {
      await this.options.store.settleOutbox(event.eventId, update, new Date(now));
    } catch (err) {
      // Its lease runs out, and it is sent again: at least once.
      this.trouble('could not record a webhook attempt; the event will be sent again', err);
    }
  }

  /** POST `message` to `target`: undefined on a 2xx, else why not. */
  private async post(
    target: Endpoint,
    message: ReturnType<typeof webhookMessage>,
  ): Promise<string | undefined> {
    const { timeoutMs } = this.options;
    // The attempt's timestamp is the wall clock's: receivers compare it with theirs.
    const headers = this.signer.headers(message, new Date());
    if (target.authorization) headers.authorization = target.authorization;
    let failure: string | undefined;
    try {
      const res = await fetch(target.target, {
        method: 'POST',
        headers,
        body: message.body,
        redirect: 'error',
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.stopping.signal]),
      });
      await res.body?.cancel().catch(() => {});
      if (res.status < 200 || res.status > 299) failure = `HTTP ${res.status}`;
    } catch (err) {
      failure = describeFailure(err, timeoutMs);
    }
    this.options.observer.attempt(failure === undefined ? 'delivered' : 'failed');
    return failure;
  }

  private trouble(message: string, err: unknown): void {
    this.options.observer.databaseError();
    const now = performance.now();
    if (now - this.troubleAt < TROUBLE_EVERY_MS) return;
    this.troubleAt = now;
    this.options.log.warn({ err }, message);
  }
}
