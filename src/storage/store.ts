/**
 * The one storage interface. Both databases (PostgreSQL through `pg`, and the embedded
 * PGlite) speak the same SQL, so there is one implementation (`SqlStore`) over a tiny
 * driver interface (`Db`), and each driver only adapts connections and types.
 */

/**
 * `delivered`: a poll claimed the token (`claimToken`); the same device code may claim it again
 * for a grace, and the purge deletes the flow after it (`giveBack` undoes a first claim whose
 * answer was never written). The ends without a token: `EndStatus`.
 */
export type FlowStatus = 'pending' | 'approved' | 'delivered' | EndStatus;

/**
 * How a flow ends without a token: the user refused at the provider or cancelled on the
 * confirmation page, the provider refused the new token (its reason in `Flow.refusal`), or the
 * confirmation came from another network under `CROSS_NETWORK_POLICY=block`.
 */
export type EndStatus = 'denied' | 'cancelled' | 'refused' | 'blocked';

/** A flow as stored: hashes and public material only. */
export interface Flow {
  flowId: string;
  deviceCodeHash: Buffer;
  status: FlowStatus;
  publicKey: Buffer;
  clientIp: string | null;
  userAgent: string | null;
  intervalSeconds: number;
  createdAt: Date;
  expiresAt: Date;
  lastPollAt: Date | null;
  browserHash: Buffer | null;
  /** Whether a confirmed browser is on its way to the provider (a `state` is outstanding). */
  awaitingCallback: boolean;
  /** Whether the flow's `state` has been claimed by a callback (which is using its code). */
  stateClaimed: boolean;
  /** When it was approved, denied or cancelled (null while pending). */
  finishedAt: Date | null;
  /** Why the provider refused its token, in the provider's words (status `refused`). */
  refusal: string | null;
}

export interface NewFlow {
  flowId: string;
  deviceCodeHash: Buffer;
  userCodeHash: Buffer;
  publicKey: Buffer;
  clientIp: string | null;
  userAgent: string | null;
  intervalSeconds: number;
  createdAt: Date;
  expiresAt: Date;
  /** The network it was started from (the key of its flow-start limit), for `makeRoom`. */
  holder: string | null;
}

/** What is known of a provider code after `sightCodes` recorded one more sighting of it. */
export interface CodeSighting {
  /** Whether this was the first time any instance saw it. */
  first: boolean;
  /** The flow whose accepted callback first carried it; null when first seen at a refused one. */
  flowId: string | null;
}

/** What `makeRoom` did, when the cap on live flows is reached. */
export interface Room {
  /** The flow that was ended to make room, if one was. */
  displaced?: string;
  /** When the earliest of the live flows it sampled expires (a place is sure to be free then). */
  freeAt?: Date;
}

/**
 * The result of recording a poll: the flow after the poll, and whether it came too soon: for a
 * client told `slow_down` (its interval was raised), or, for a client that is paced instead,
 * when the poll is due.
 */
export interface PollRecord {
  flow: Flow;
  slowDown: boolean;
  /** A paced poll that came too soon: when it is due (recorded as its time). */
  dueAt?: Date;
}

/** A token claimed by a poll: the sealed token, and whether this claim delivered it first. */
export interface TokenClaim {
  sealed: Buffer;
  first: boolean;
}

/**
 * How a flow ended, as the audit trail, webhooks, `logins --outcome` and the finished-flows
 * metric say it (migrations/015 checks the same list).
 */
export const LOGIN_OUTCOMES = [
  'delivered',
  'denied',
  'cancelled',
  'refused',
  'blocked',
  'expired',
  'failed',
] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

/** What the statement that ends a flow writes with its event (in `login_events`). */
export interface EndRecord {
  /** When it ended. */
  now: Date;
  /** The instance ending it, for the record. */
  instance: string;
  /** Until when the event is kept (`AUDIT_RETENTION_DAYS`). */
  keepUntil: Date;
  /** Whether to queue it for webhooks too (in `webhook_outbox`), in the same statement. */
  notify: boolean;
}

/** An organisation as the audit trail keeps it: its keyed hash, and the id sealed. */
export interface OrganizationRecord {
  key: Buffer;
  sealed: Buffer;
}

/** How the confirming browser reached the flow, for the record. */
export interface Confirming {
  /** The browser's network against the device's. */
  browserNetwork: 'same' | 'different' | 'unknown';
  /** Whether the code came in the link (`verification_uri_complete`) or was typed. */
  codeSource: 'link' | 'typed';
}

/** The recorded end of a flow (a row of `login_events`). */
export interface LoginEvent {
  eventId: string;
  flowId: string;
  at: Date;
  outcome: LoginOutcome;
  reason: string | null;
  orgKey: Buffer | null;
  orgSealed: Buffer | null;
  clientIp: string | null;
  userAgent: string | null;
  browserNetwork: string | null;
  codeSource: string | null;
  instance: string | null;
  startedAt: Date;
}

/** Which events `loginEvents` reads (newest first). */
export interface LoginEventFilter {
  orgKey?: Buffer;
  since?: Date;
  outcome?: LoginOutcome;
  limit: number;
}

/** An event an instance took from the outbox to send, with what is known of its sending so far. */
export interface OutboxItem {
  event: LoginEvent;
  /** Attempts so far, this one included. */
  attempts: number;
  /** Endpoints that already answered 2xx. */
  deliveredTo: string[];
  createdAt: Date;
}

/** What became of an attempt to send an outbox item. */
export type OutboxUpdate =
  | { state: 'delivered'; deliveredTo: string[] }
  | { state: 'failed'; deliveredTo: string[]; error: string }
  | { state: 'pending'; deliveredTo: string[]; nextAttemptAt: Date; error: string };

/** A flow whose end `purge` recorded (it expired, failed, or was delivered unconfirmed). */
export interface PurgedFlow {
  flowId: string;
  outcome: LoginOutcome;
  reason: string | null;
}

/** A fixed-window limit: at most `max` hits on `key` per `windowMs`. */
export interface RateRule {
  key: string;
  windowMs: number;
  max: number;
}

/** A fixed-window counter after a hit (or a look). */
export interface RateCount {
  hits: number;
  windowStart: Date;
  resetAt: Date;
}

/** A change to a flow, broadcast to every instance. */
export interface FlowEvent {
  /** The device-code hash, hex. */
  key: string;
  status: FlowStatus | 'deleted';
}

/** What the batch re-check of cached flows needs. */
export interface FlowState {
  status: FlowStatus;
  intervalSeconds: number;
}

/** Callbacks for flow changes made by any instance. */
export interface FlowSubscriber {
  onEvent(event: FlowEvent): void;
  /** Changes are no longer being heard (the connection dropped). */
  onLost(): void;
  /** Hearing changes again; those made while lost were missed. */
  onRestored(): void;
  onError(err: Error): void;
}

/** Callbacks for the webhook outbox, on every instance. */
export interface OutboxSubscriber {
  /** An instance queued events (the outbox's notification). */
  onQueued(): void;
  /** Hearing again after a dropped connection: events queued meanwhile were not announced. */
  onRestored(): void;
  onError(err: Error): void;
}

/** Everything the server asks of its database. Every method is one statement, so one round trip. */
export interface Store {
  readonly kind: 'postgres' | 'pglite';
  /** Apply pending migrations under an advisory lock; returns the versions applied now. */
  migrate(): Promise<number[]>;
  /**
   * Count a hit against `limit` and insert the flow only if the count is within it, in one
   * statement (one round trip on the hot path of starting flows).
   */
  createFlowWithin(flow: NewFlow, limit: RateRule): Promise<{ created: boolean; count: RateCount }>;
  findByUserCode(userCodeHash: Buffer): Promise<Flow | undefined>;
  findByState(stateHash: Buffer): Promise<Flow | undefined>;
  findByFlowId(flowId: string): Promise<Flow | undefined>;
  /**
   * Record the confirming browser (its binding hash, and how it reached the flow, unless
   * `confirming` is absent: a retry keeps what was recorded) and the outstanding `state`; false
   * unless still pending.
   */
  confirm(
    flowId: string,
    stateHash: Buffer,
    browserHash: Buffer,
    now: Date,
    confirming?: Confirming,
  ): Promise<boolean>;
  /**
   * Atomically take an outstanding `state` (a callback is used once); the flow, if it was still
   * pending. The state stays findable, marked claimed, until the flow is approved or denied.
   */
  claimState(stateHash: Buffer, now: Date): Promise<Flow | undefined>;
  /**
   * Store the sealed token (and the organisation it is for, for the record); undefined unless
   * the flow is still pending and not expired at `now`.
   */
  approve(
    flowId: string,
    sealedToken: Buffer,
    now: Date,
    organization?: OrganizationRecord,
  ): Promise<Flow | undefined>;
  /** End a pending flow without a token (`refusal`: the provider's reason, for `refused`), and record its end, in one statement. */
  deny(
    flowId: string,
    status: EndStatus,
    end: EndRecord,
    organization?: OrganizationRecord,
    refusal?: string,
  ): Promise<Flow | undefined>;
  /** Note why a flow's exchange with the provider failed (its end, should it expire so, is `failed`). */
  recordFailure(flowId: string, failure: string): Promise<void>;
  /**
   * A delivered token's answer was written: record the flow's end (`delivered`), once; true
   * when this call recorded it. A flow given back meanwhile (an earlier claim's answer lost
   * after this one's was written) is delivered again.
   */
  confirmDelivery(deviceCodeHash: Buffer, end: EndRecord): Promise<boolean>;
  /**
   * Keep a browser's last approved login (sealed) under `browserKey` until `keepUntil`, and
   * delete the one kept under `replacing` (the browser's previous key), in one statement.
   */
  recordBrowserLogin(browserKey: Buffer, sealed: Buffer, keepUntil: Date, replacing?: Buffer): Promise<void>;
  /** A browser's last approved login (sealed), unless it is past its keeping at `now`. */
  browserLogin(browserKey: Buffer, now: Date): Promise<Buffer | undefined>;
  /**
   * Record a poll, and whether it came too soon (by the rule of src/device-flow/pacing.ts), in
   * which case the interval grows by `step` seconds, or, with `pace`, the poll is recorded at
   * the time it is due (`dueAt`) and the interval stays.
   */
  recordPoll(
    deviceCodeHash: Buffer,
    now: Date,
    pacing: { step: number; pace?: boolean },
  ): Promise<PollRecord | undefined>;
  /** Read a flow by its device code hash without touching it. */
  findByDeviceCode(deviceCodeHash: Buffer): Promise<Flow | undefined>;
  /**
   * The atomic claim: mark an approved flow `delivered` (at `now`) and return its sealed token,
   * or return it again while the flow was delivered less than `graceMs` ago; `first` is true for
   * exactly one caller, the one that delivered it. Concurrent claims are serialized.
   */
  claimToken(deviceCodeHash: Buffer, now: Date, graceMs: number): Promise<TokenClaim | undefined>;
  /**
   * A first claim's answer could not be written: the flow is `approved` again, for the next
   * poll; unless another claim's answer was written and confirmed meanwhile.
   */
  giveBack(deviceCodeHash: Buffer): Promise<boolean>;
  /**
   * Record the end of flows that expired unended (`expired`, or `failed` after a failed
   * exchange) and of delivered flows whose answer was never confirmed, before their grace
   * `deliveredBefore` (`delivered`, reason `unconfirmed`); delete flows that expired before
   * `before` and delivered ones past their grace, stale rate-limit windows, and code sightings,
   * browser logins and events past their time. One statement; returns the flows whose end it
   * recorded.
   */
  purge(before: Date, deliveredBefore: Date, end: EndRecord): Promise<PurgedFlow[]>;
  /** Recorded ends of flows, newest first. */
  loginEvents(filter: LoginEventFilter): Promise<LoginEvent[]>;
  /**
   * Take up to `limit` outbox items due at `now` for sending, leasing them for `leaseMs` (an
   * instance that dies mid-send gives them up when the lease ends); items another instance holds
   * are skipped.
   */
  claimOutbox(now: Date, leaseMs: number, limit: number): Promise<OutboxItem[]>;
  /** Record what became of an attempt, and release the lease. */
  settleOutbox(eventId: string, update: OutboxUpdate, now: Date): Promise<void>;
  /** Outbox items not yet delivered, and those given up. */
  countOutbox(): Promise<{ pending: number; failed: number }>;
  /** Count a hit in the window `key`; the window restarts when older than `windowMs`. */
  hit(key: string, now: Date, windowMs: number): Promise<RateCount>;
  /**
   * Count one hit on each of `keys` (distinct) at once, in one statement; the counts in the
   * order of `keys`. Concurrent callers each see a different count, so a limit checked on the
   * result holds under any burst.
   */
  hitAll(keys: string[], now: Date, windowMs: number): Promise<RateCount[]>;
  /** Take back one hit from each window (key and start), if that window is still the current one. */
  forgive(windows: { key: string; windowStart: Date }[]): Promise<void>;
  /** Record a `slow_down` decided from memory: the flow's interval becomes at least `intervalSeconds`. */
  raiseInterval(deviceCodeHash: Buffer, intervalSeconds: number, now: Date): Promise<void>;
  /**
   * Of flows a cache holds as pending with these intervals (hex keys), the ones it holds wrongly:
   * each with its state now, or `undefined` when it is gone. Flows still pending with the same
   * interval cost no row. One round trip.
   */
  staleFlows(cached: { key: string; intervalSeconds: number }[]): Promise<Map<string, FlowState | undefined>>;
  /** Be told of every flow change, on every instance; returns the unsubscribe function. */
  subscribe(subscriber: FlowSubscriber): Promise<() => Promise<void>>;
  /**
   * Be told when any instance queues events in the webhook outbox, on the same connection as
   * `subscribe` (the flows' subscriber never hears of the outbox); returns the unsubscribe function.
   */
  subscribeOutbox(subscriber: OutboxSubscriber): Promise<() => Promise<void>>;
  /**
   * Send a test notification through the query connections and say whether it came back on
   * the subscription within `timeoutMs`. A transaction pooler between the two (PgBouncer in
   * transaction mode) silently drops LISTEN: this is how the server notices.
   */
  notificationsArrive(timeoutMs: number): Promise<boolean>;
  /** Live flows waiting for their user (for the pending-flows gauge). */
  countPending(now: Date): Promise<number>;
  /**
   * Record one sighting of each provider code (by its `codeKey`; distinct) at a callback, for
   * `flowId` (an accepted callback) or null (a refused one), in one statement. A code's first
   * sighting decides its flow for good (kept until `keepUntil`); later ones change nothing. The
   * sightings in the order of `codeKeys`.
   */
  sightCodes(codeKeys: Buffer[], flowId: string | null, keepUntil: Date): Promise<CodeSighting[]>;
  /**
   * When the cap on live flows is reached: among the networks holding the flows of a random
   * sample of live pending flows, take the one holding the most; if it holds more than `spare`
   * and at least two more than `holder` does, end (expire now) its oldest pending flow. One
   * statement, whose work grows with the log of the number of flows, not with it.
   */
  makeRoom(holder: string, spare: number, end: EndRecord): Promise<Room>;
  /** A cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
