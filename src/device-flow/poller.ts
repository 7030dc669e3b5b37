/**
 * The poll (RFC 8628 §3.4–3.5), in one order: every fallible check first, then the one atomic
 * claim (`Store.claimToken`), so a token is delivered once across all instances. A delivered
 * token can be collected again by the same device code, and only with it, for
 * `REDELIVERY_GRACE_MS`: the answer that carried it may never have reached the client (a
 * connection reset after the write), and a second poll of the same device code arriving while
 * the first is answered must not end the CLI's login with `invalid_grant`. Every answer,
 * the token or an RFC error, is a value: nothing here throws to answer.
 *
 * A flow this instance knows to be pending is answered from memory; a poll may be held open
 * up to its wait (a little less, at random: waiting CLIs released together must not come back
 * together) and answers the moment its flow changes. A held poll whose client goes stops being
 * held and claims nothing. While the database is unreachable, polls answer
 * `authorization_pending`: waiting is the truth as far as we can tell, and the CLI gives
 * up on any other error. A poll that comes too soon gets `slow_down` from an RFC client (it sent
 * `grant_type`), and is held until it is due otherwise (the CLI ends its login on
 * `slow_down`; `pacing.ts`).
 */
import type { Config } from '../config.js';
import {
  AccessDenied,
  ExpiredToken,
  InvalidGrant,
  type OAuthError,
  PENDING,
  ProviderRefusal,
  SlowDown,
  TooManyRequests,
} from '../oauth-errors.js';
import type { EndRecord, Flow, Store } from '../storage/store.js';
import type { Upstream } from '../upstream/upstream.js';
import { addressKey } from './addresses.js';
import { hashKey } from './codes.js';
import type { FlowEvents } from './events.js';
import { dueAt, SLOW_DOWN_STEP_SECONDS } from './pacing.js';
import type { PendingCache } from './pending-cache.js';
import type { Hangup, PendingEntry } from './pending-memory.js';
import type { RateLimits } from './rate-limits.js';
import { open } from './seal.js';

/** Who polls: the client address (for limits) and the request id (for logs), and its connection. */
export interface PollingClient extends Hangup {
  ip: string;
  reqId?: string;
}

/** A successful poll: the token answer (RFC 8628 §3.5, RFC 6749 §5.1), as the provider's profile writes it. */
export interface IssuedToken {
  /** The answer's fields (`Upstream.tokenAnswer`), never logged. */
  fields: Record<string, unknown>;
  /**
   * Say what became of the answer carrying it: `written` (handed to the connection: the flow
   * is deleted) or not (the client had gone: the token is given back, and the next poll of
   * the same device code receives it). Call once.
   */
  settle(written: boolean): Promise<void>;
}

/** What a poll is answered with: the token, or the RFC error (most often `authorization_pending`). */
export type PollAnswer = IssuedToken | OAuthError;

/** The longest a poll is ever held (`Prefer: wait` is capped at it, and pacing too). */
const MAX_HOLD_MS = 20_000;
/** Held polls end up to this share of their wait early, at most this many ms, at random. */
const HOLD_JITTER_SHARE = 0.2;
const HOLD_JITTER_MAX_MS = 3000;

/**
 * For how long after its first delivery the same device code collects its token again. Longer
 * than a few polls of a client that lost an answer (the CLI polls again 5 s after a
 * network error), short enough that the token's (sealed) row is soon deleted.
 */
export const REDELIVERY_GRACE_MS = 60_000;

const expired = () => new ExpiredToken('The device code has expired: start again');
/** What a store call of a poll gives when the database is unreachable. */
const UNREACHABLE: unique symbol = Symbol('database unreachable');
const unknown = () => new InvalidGrant('Unknown or already used device_code');

export interface PollerDeps {
  config: Config;
  store: Store;
  limits: RateLimits;
  pending: PendingCache;
  events: FlowEvents;
  upstream: Upstream;
  /** What the statement ending a flow at `at` records (the audit trail). */
  end: (at: number) => EndRecord;
  now: () => number;
}

/** Answers polls: the poll's rules, from memory or the database. */
export class Poller {
  constructor(private readonly deps: PollerDeps) {}

  /**
   * The answer to a poll of `deviceCode`, held up to `waitSeconds`; `rfc`: the client sent
   * `grant_type`. The most common answer, "still pending" from memory without holding, comes
   * back as a value, not a promise: on the hot path each promise and microtask showed in the
   * profile (docs/performance.md).
   */
  answer(
    deviceCode: string,
    caller: PollingClient,
    waitSeconds: number,
    rfc: boolean,
  ): PollAnswer | Promise<PollAnswer> {
    const now = this.deps.now();
    const key = hashKey(deviceCode);
    const cached = this.deps.pending.get(key);
    if (cached && cached.expiresAt > now) {
      const due = dueAt(cached.lastPollAt, cached.intervalSeconds);
      if (now < due) {
        if (rfc) return this.slowDown(cached, key, now);
        // Counted as polled when due, so the client's next poll, an interval later, is on time.
        cached.lastPollAt = due;
        return this.hold(key, deviceCode, cached.expiresAt, waitSeconds, caller, due - now);
      }
      cached.lastPollAt = now;
      if (waitSeconds <= 0) return PENDING;
      return this.hold(key, deviceCode, cached.expiresAt, waitSeconds, caller);
    }
    return this.fromStore(deviceCode, key, caller, waitSeconds, now, rfc);
  }

  /** A poll of a flow not in memory: recorded in the database (paced there), then settled or held. */
  private async fromStore(
    deviceCode: string,
    key: string,
    caller: PollingClient,
    waitSeconds: number,
    now: number,
    rfc: boolean,
  ): Promise<PollAnswer> {
    const deviceCodeHash = Buffer.from(key, 'hex');
    const record = await this.orPending(() =>
      this.deps.store.recordPoll(deviceCodeHash, new Date(now), { step: SLOW_DOWN_STEP_SECONDS, pace: !rfc }),
    );
    if (record === UNREACHABLE) return PENDING;
    if (!record) return this.unknownDeviceCode(caller.ip, now);
    const { flow, slowDown, dueAt: due } = record;
    if (flow.status === 'delivered') return this.settle(flow, deviceCode, deviceCodeHash, caller);
    if (flow.expiresAt.getTime() <= now) {
      this.deps.pending.invalidate(key);
      return expired();
    }
    if (slowDown) return new SlowDown(flow.intervalSeconds);
    if (flow.status !== 'pending') return this.settle(flow, deviceCode, deviceCodeHash, caller);
    this.deps.pending.remember(key, {
      flowId: flow.flowId,
      expiresAt: flow.expiresAt.getTime(),
      intervalSeconds: flow.intervalSeconds,
      lastPollAt: due ? due.getTime() : now,
    });
    return this.hold(
      key,
      deviceCode,
      flow.expiresAt.getTime(),
      waitSeconds,
      caller,
      due ? due.getTime() - now : 0,
    );
  }

  /**
   * `slow_down` decided from memory: the interval grows by 5 s (§3.5). Rare, so written
   * through: other instances learn the new interval at their next look.
   */
  private async slowDown(entry: PendingEntry, key: string, now: number): Promise<PollAnswer> {
    entry.lastPollAt = now;
    entry.intervalSeconds += SLOW_DOWN_STEP_SECONDS;
    await this.deps.store
      .raiseInterval(Buffer.from(key, 'hex'), entry.intervalSeconds, new Date(now))
      .catch((err) => this.deps.events.trouble('pacing', 'could not record slow_down', err));
    return new SlowDown(entry.intervalSeconds);
  }

  /**
   * Pending: hold the poll until the flow changes, the wait ends, it expires, or its client
   * goes. The wait is `waitSeconds` less up to a fifth of it (at most 3 s), at random, and at
   * least `dueInMs` (a paced poll is held until it is due), never more than `MAX_HOLD_MS`.
   */
  private async hold(
    key: string,
    deviceCode: string,
    expiresAt: number,
    waitSeconds: number,
    caller: PollingClient,
    dueInMs = 0,
  ): Promise<PollAnswer> {
    const waitMs = waitSeconds * 1000;
    const jittered = waitMs - Math.random() * Math.min(waitMs * HOLD_JITTER_SHARE, HOLD_JITTER_MAX_MS);
    const holdMs = Math.min(Math.max(jittered, dueInMs), MAX_HOLD_MS, expiresAt - this.deps.now());
    const wake = await this.deps.pending.wait(
      key,
      holdMs,
      addressKey(caller.ip),
      this.deps.config.maxHeldPollsPerAddress,
      caller,
    );
    // Nobody to answer: claim nothing (the client's next poll will).
    if (wake === 'gone' || caller.gone) return PENDING;
    if (wake === 'changed') {
      const deviceCodeHash = Buffer.from(key, 'hex');
      const flow = await this.orPending(() => this.deps.store.findByDeviceCode(deviceCodeHash));
      if (flow === UNREACHABLE) return PENDING;
      if (!flow) return unknown();
      return this.settle(flow, deviceCode, deviceCodeHash, caller);
    }
    if (wake === 'timeout' && holdMs > 0 && expiresAt <= this.deps.now()) return expired();
    return PENDING;
  }

  /**
   * A flow that is no longer (or not known to be) pending: deny, deliver (again, within the
   * grace, whatever its expiry), or keep waiting.
   */
  private async settle(
    flow: Flow,
    deviceCode: string,
    deviceCodeHash: Buffer,
    caller: PollingClient,
  ): Promise<PollAnswer> {
    const now = this.deps.now();
    if (flow.status !== 'delivered' && flow.expiresAt.getTime() <= now) return expired();
    switch (flow.status) {
      case 'denied':
        return new AccessDenied('The user denied the request');
      case 'cancelled':
        return new AccessDenied('The user cancelled the request');
      case 'refused': {
        const { error, description } = this.deps.upstream.refusal(flow.refusal ?? '');
        return new ProviderRefusal(error, description);
      }
      case 'blocked':
        return new AccessDenied(
          'The login was confirmed from another network than the one it started on, which this server refuses: confirm it on this computer, then run the login again',
        );
      case 'pending':
        return PENDING;
      case 'approved':
      case 'delivered':
        break;
    }
    // The client went while this poll was on its way here: leave the token for its next poll.
    if (caller.gone) return PENDING;
    const claim = await this.orPending(() =>
      this.deps.store.claimToken(deviceCodeHash, new Date(now), REDELIVERY_GRACE_MS),
    );
    if (claim === UNREACHABLE) return PENDING;
    // Delivered longer ago than the grace (or never approved): the device code is spent.
    if (!claim) return unknown();
    const opened = JSON.parse(open(claim.sealed, deviceCode, deviceCodeHash)) as Record<string, unknown>;
    return {
      fields: this.deps.upstream.tokenAnswer(opened, now),
      settle: (written) => this.delivery(flow, deviceCodeHash, caller, written, claim.first),
    };
  }

  /**
   * After a token's answer: delivered (the first time: reported; the flow is deleted by the
   * purge once its grace has passed), or, for a first delivery, not written (the token goes back
   * for the next poll, with no grace to run out).
   */
  private async delivery(
    flow: Flow,
    deviceCodeHash: Buffer,
    caller: PollingClient,
    written: boolean,
    first: boolean,
  ): Promise<void> {
    const { store, events } = this.deps;
    if (!written && !first) return;
    if (!written) {
      events.flow('returned', flow.flowId, caller);
      await events
        .retrying(() => store.giveBack(deviceCodeHash))
        .catch((err) =>
          events.trouble('delivery', 'could not give back a token whose answer was not written', err),
        );
      return;
    }
    if (!first) events.flow('redelivered', flow.flowId, caller);
    // The login's record, by whichever written answer confirms first: a re-collection's too, since
    // the first claim's answer may yet be lost and its token given back (then the re-collection
    // is the delivery). Should it fail, the purge records the login as delivered, unconfirmed.
    const recorded = await store
      .confirmDelivery(deviceCodeHash, this.deps.end(this.deps.now()))
      .catch((err) => {
        events.trouble('audit', 'could not record a delivered login in the audit trail', err);
        return first;
      });
    if (recorded) {
      events.flow('delivered', flow.flowId, caller, {
        ...(flow.finishedAt ? { sinceApprovalMs: this.deps.now() - flow.finishedAt.getTime() } : {}),
      });
    }
  }

  private async unknownDeviceCode(clientIp: string, now: number): Promise<PollAnswer> {
    const refusal = await this.deps.limits.unknownDeviceCode(clientIp, new Date(now)).catch(() => undefined);
    if (!refusal) return unknown();
    this.deps.events.rateLimited('token');
    return new TooManyRequests(refusal.retryAfterSeconds);
  }

  /** Run a store call for a poll; if the database is unreachable, the honest answer is "pending". */
  private async orPending<T>(fn: () => Promise<T>): Promise<T | typeof UNREACHABLE> {
    try {
      return await fn();
    } catch (err) {
      this.deps.events.trouble(
        'poll',
        'database unreachable during a poll; answering authorization_pending',
        err,
      );
      return UNREACHABLE;
    }
  }
}
