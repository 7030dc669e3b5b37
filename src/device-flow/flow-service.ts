/**
 * The device flow (RFC 8628) as one service, and the one front door to it: start, the
 * browser's steps (look up, confirm, cancel, callback), the poll (`poller.ts`), and the upkeep
 * the process asks for (attach, detach, purge, what is held). Routes stay thin and speak HTTP;
 * every rule of the flow lives behind this class, which speaks neither HTTP nor SQL.
 */
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import { TemporarilyUnavailable, TooManyRequests, UnsupportedGrantType } from '../oauth-errors.js';
import type { Confirming, EndRecord, Flow, RateRule, Store } from '../storage/store.js';
import { clientSecretOf } from '../upstream/index.js';
import { type RefreshAnswer, type Upstream, UpstreamError } from '../upstream/upstream.js';
import { type NetworkMatch, networkMatch, siteKey } from './addresses.js';
import { type BrowserLogin, BrowserLogins } from './browser-logins.js';
import {
  type BindingOf,
  type CallbackDeps,
  type CallbackInput,
  type CallbackResult,
  type Caller,
  confirmingBrowser,
  endedReason,
  runCallback,
} from './callback/index.js';
import { CodeBurner } from './code-burner.js';
import { hashSecret, newDeviceCode, newToken, newUserCode, normalizeUserCode } from './codes.js';
import { type FlowEventName, FlowEvents, type FlowObserver } from './events.js';
import { Organizations } from './organizations.js';
import { PageError } from './page-error.js';
import { type NotificationState, PendingCache } from './pending-cache.js';
import { OFFICE_FLOWS, PendingCap } from './pending-cap.js';
import { codeChallenge, codeVerifier, newState } from './pkce.js';
import { type PollAnswer, Poller, REDELIVERY_GRACE_MS } from './poller.js';
import type { RateLimits } from './rate-limits.js';
import { recipientKeyOffThread } from './seal.js';

export type {
  BindingOf,
  CallbackInput,
  CallbackOutcome,
  CallbackResult,
  Caller,
} from './callback/index.js';
export type { FlowEventName, FlowObserver } from './events.js';
export type { IssuedToken, PollAnswer } from './poller.js';

export interface FlowServiceDeps {
  config: Config;
  store: Store;
  /** The OAuth provider the flow bridges to (`src/upstream/`). */
  upstream: Upstream;
  limits: RateLimits;
  observer: FlowObserver;
  now?: () => number;
  /** This instance's name in the audit trail (default: the host name and process id). */
  instance?: string;
}

/** The device authorization response (RFC 8628 §3.2), before serialization. */
export interface StartedFlow {
  flowId: string;
  deviceCode: string;
  userCode: string;
  expiresIn: number;
  interval: number;
}

/** A flow the browser found by its user code. */
export interface FoundFlow {
  flow: Flow;
  userCode: string;
}

/**
 * How the browser may confirm a flow (`CROSS_NETWORK_POLICY`): at once; only by typing the code
 * shown in the terminal (the device is on another network, and the code came in a link); or not
 * at all (another network, and the policy is `block`).
 */
export type ConfirmStep = 'confirm' | 'type_code' | 'blocked';

/** What the confirmation page must know: the networks compared, the step, the login approving would end. */
export interface Confirmation {
  network: NetworkMatch;
  /** How to confirm (a `blocked` confirmation ends the flow and is refused instead). */
  step: Exclude<ConfirmStep, 'blocked'>;
  /** The last CLI login approved in this browser, if one is kept. */
  replaces: BrowserLogin | undefined;
}

/**
 * Where to send the confirming browser, and the secret it must keep (a cookie, named by the
 * HTTP layer for `flowId`) that binds the callback to it, for `maxAgeSeconds`.
 */
export interface Authorization {
  redirectTo: string;
  binding: { flowId: string; value: string; maxAgeSeconds: number };
}

// An expired flow answers `expired_token` (not `invalid_grant`) for this long after expiry.
const EXPIRED_KEPT_MS = 60 * 60 * 1000;
const MAX_START_ATTEMPTS = 5;
/** RFC 8628 §3.4's grant type, named in the refusal of a refresh where there is none. */
const DEVICE_CODE_GRANT_NAME = 'urn:ietf:params:oauth:grant-type:device_code';
/** `Retry-After` of a refresh the provider could not answer. */
const REFRESH_RETRY_AFTER_SECONDS = 5;
/** `Retry-After` when the cap on live flows is reached and no live flow's expiry is known. */
const FULL_RETRY_AFTER_SECONDS = 30;
/**
 * How long a code's sighting outlives the code at its provider: codes reach the callback seconds
 * after they are issued (a 10-minute code's sighting is kept 15). Every minute
 * kept is space a flood of junk codes can take (docs/security.md, "How big the record can grow").
 */
const CODE_KEPT_BEYOND_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The device flow. */
export class FlowService {
  /** Pending flows this instance knows, kept in step with the database (`pending-cache.ts`). */
  private readonly pending: PendingCache;
  private readonly now: () => number;
  private readonly redirectUri: string;
  private readonly burner: CodeBurner;
  private readonly cap: PendingCap;
  private readonly logins: BrowserLogins;
  private readonly events: FlowEvents;
  private readonly polls: Poller;
  private readonly organizations: Organizations;
  private readonly instance: string;
  private readonly callbackDeps: CallbackDeps;

  constructor(private readonly deps: FlowServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.instance = deps.instance ?? `${hostname()}/${process.pid}`;
    this.organizations = new Organizations(clientSecretOf(deps.config));
    this.events = new FlowEvents(deps.observer);
    this.redirectUri = `${deps.config.serverUrl}/device/callback`;
    this.burner = new CodeBurner({
      upstream: deps.upstream,
      limits: deps.limits,
      redirectUri: this.redirectUri,
      now: this.now,
    });
    this.pending = new PendingCache({ store: deps.store, observer: deps.observer, now: this.now });
    this.logins = new BrowserLogins({
      store: deps.store,
      days: deps.config.loginHistoryDays,
      now: this.now,
    });
    this.cap = new PendingCap({
      max: deps.config.maxPendingFlows,
      count: (now) => deps.store.countPending(now),
      makeRoom: (holder, now) => deps.store.makeRoom(holder, OFFICE_FLOWS, this.end(now.getTime())),
      now: this.now,
    });
    this.polls = new Poller({
      config: deps.config,
      store: deps.store,
      limits: deps.limits,
      pending: this.pending,
      events: this.events,
      upstream: deps.upstream,
      end: (at) => this.end(at),
      now: this.now,
    });
    this.callbackDeps = {
      store: deps.store,
      upstream: deps.upstream,
      burner: this.burner,
      logins: this.logins,
      organizations: this.organizations,
      events: this.events,
      redirectUri: this.redirectUri,
      codeKeptMs: deps.upstream.codeLifetimeMs + CODE_KEPT_BEYOND_MS,
      tokenCheckTimeoutMs: deps.config.tokenCheckTimeoutMs,
      now: this.now,
      end: (at) => this.end(at),
      changed: (flow) => this.changed(flow),
      lastLogin: (secret) => this.lastLogin(secret),
      noteFailure: (flow, failure) => this.noteFailure(flow, failure),
    };
  }

  /** Start hearing every instance's flow changes (LISTEN/NOTIFY), and re-checking the cache. */
  attach(): Promise<void> {
    return this.pending.attach();
  }

  /** Shutting down: answer every held poll now (`authorization_pending`), and stop listening. */
  detach(): Promise<void> {
    return this.pending.detach();
  }

  /**
   * Re-check now the flows this instance answers from memory against the database (a timer
   * does it every 10 s, every second while notifications are lost).
   */
  recheck(): Promise<void> {
    return this.pending.recheck();
  }

  /** Polls held open on this instance right now. */
  get heldPolls(): number {
    return this.pending.view.held;
  }

  /** Whether this instance's test notifications come back (`lost`: a transaction pooler in the way). */
  get notifications(): NotificationState {
    return this.pending.notifications;
  }

  /**
   * POST /device/token: the answer to a poll of `deviceCode` (`poller.ts`), held up to
   * `waitSeconds`; `rfc`: the client sent `grant_type`. The token or an RFC error, as a value,
   * and the most common one ("still pending", from memory) without a promise.
   */
  poll(deviceCode: string, caller: Caller, waitSeconds = 0, rfc = true): PollAnswer | Promise<PollAnswer> {
    return this.polls.answer(deviceCode, caller, waitSeconds, rfc);
  }

  /**
   * POST /device/code: a new flow for the device making this request. What can refuse it
   * without the database does so first (a known rate-limit refusal, the cap on live flows).
   */
  async start(caller: Caller, userAgent: string | undefined): Promise<StartedFlow> {
    const { limits, observer } = this.deps;
    const now = new Date(this.now());
    const rule = limits.flowStart(caller.ip);
    const known = limits.knownRefusal(rule, now);
    if (known) {
      observer.rateLimited('device_code');
      throw new TooManyRequests(known.retryAfterSeconds);
    }
    const place = await this.cap.reserve(siteKey(caller.ip));
    if (place.full) {
      // Nobody found holds more than an office would (or two more than this caller): a place
      // frees when the earliest of the live flows sampled expires.
      observer.rateLimited('device_code');
      const retryAfter = place.freeAt
        ? Math.max(1, Math.ceil((place.freeAt.getTime() - now.getTime()) / 1000))
        : FULL_RETRY_AFTER_SECONDS;
      throw new TemporarilyUnavailable('Too many logins are in progress; try again shortly', retryAfter);
    }
    if (place.displaced) this.event('displaced', place.displaced, caller, { for: caller.ip });
    let started: StartedFlow | undefined;
    try {
      started = await this.insertFlow(caller, userAgent, rule, now);
      return started;
    } finally {
      if (started) this.cap.created();
      else this.cap.release();
    }
  }

  private async insertFlow(
    caller: Caller,
    userAgent: string | undefined,
    rule: RateRule,
    now: Date,
  ): Promise<StartedFlow> {
    const clientIp = caller.ip;
    const { config, store, limits, observer } = this.deps;
    for (let attempt = 0; attempt < MAX_START_ATTEMPTS; attempt++) {
      const deviceCode = newDeviceCode();
      const userCode = newUserCode();
      const flowId = newToken(12);
      const deviceCodeHash = hashSecret(deviceCode);
      const expiresAt = now.getTime() + config.deviceCodeTtlSeconds * 1000;
      const publicKey = await recipientKeyOffThread(deviceCode);
      const { created, count } = await store.createFlowWithin(
        {
          flowId,
          deviceCodeHash,
          userCodeHash: hashSecret(userCode),
          publicKey,
          clientIp,
          // Printable text only: PostgreSQL text cannot hold NUL, and the page shows it.
          userAgent: userAgent?.replace(/\p{Cc}/gu, '').slice(0, 512) ?? null,
          intervalSeconds: config.pollIntervalSeconds,
          createdAt: now,
          expiresAt: new Date(expiresAt),
          holder: siteKey(clientIp),
        },
        rule,
      );
      const refusal = limits.refusal(count, rule, now);
      if (refusal) {
        observer.rateLimited('device_code');
        throw new TooManyRequests(refusal.retryAfterSeconds);
      }
      if (created) {
        this.pending.remember(deviceCodeHash.toString('hex'), {
          flowId,
          expiresAt,
          intervalSeconds: config.pollIntervalSeconds,
          lastPollAt: null,
        });
        this.event('started', flowId, caller, { clientIp });
        return {
          flowId,
          deviceCode,
          userCode,
          expiresIn: config.deviceCodeTtlSeconds,
          interval: config.pollIntervalSeconds,
        };
      }
      // A user-code collision among live flows (1 in ~2.5e10 per live flow): draw again.
    }
    throw new Error('could not draw a unique user code');
  }

  /** The browser typed (or followed a link with) a user code: its live flow, logged as `code_entered`. */
  async enterCode(input: unknown, caller: Caller): Promise<FoundFlow> {
    const found = await this.lookup(input, caller);
    this.event('code_entered', found.flow.flowId, caller, { clientIp: caller.ip });
    return found;
  }

  /**
   * The live flow of a user code, within the wrong-code limits: for code entry, and for the
   * confirmation page's buttons, which send the code again.
   */
  async lookup(input: unknown, caller: Caller): Promise<FoundFlow> {
    const clientIp = caller.ip;
    const { store, limits, observer } = this.deps;
    const now = new Date(this.now());
    const attempt = await limits.userCodeAttempt(clientIp, now);
    if (attempt.refusal) {
      observer.rateLimited('verify');
      throw new PageError('rate_limited', { retryAfterSeconds: attempt.refusal.retryAfterSeconds });
    }
    const userCode = normalizeUserCode(input);
    const flow = userCode ? await store.findByUserCode(hashSecret(userCode)) : undefined;
    if (!userCode || !flow) throw new PageError('invalid_code');
    // A right code does not use the allowance (a failure to give it back only costs one attempt).
    await attempt
      .forgive()
      .catch((err) => observer.trouble('rate_limit', 'could not give back a user-code attempt', err));
    if (flow.expiresAt.getTime() <= now.getTime()) throw new PageError('expired');
    if (flow.status !== 'pending') throw new PageError('already_used');
    return { flow, userCode };
  }

  /**
   * What the confirmation page of `flow` must be, for this browser: the device's network
   * compared with the browser's, what `CROSS_NETWORK_POLICY` asks (a code that came in the link,
   * `fromLink`, is not enough from another network under `type-code`; RFC 8628 §5.4 and the
   * cross-device BCP), and the last CLI login approved in this browser, which approving may
   * end (the browser's `loginSecret` names it; `browser-logins.ts`).
   */
  async confirmation(
    flow: Flow,
    caller: Caller,
    fromLink: boolean,
    loginSecret: string | undefined,
  ): Promise<Confirmation> {
    const network = networkMatch(flow.clientIp, caller.ip);
    const step = this.confirmStep(network, fromLink);
    if (step === 'blocked') return this.block(flow, caller);
    return { network, step, replaces: await this.lastLogin(loginSecret) };
  }

  /**
   * `CROSS_NETWORK_POLICY=block` refused a confirmation from another network: the flow ends,
   * so the CLI stops waiting at once (`access_denied`, saying why), and the page says so.
   */
  private async block(flow: Flow, caller: Caller): Promise<never> {
    const ended = await this.deps.store.deny(flow.flowId, 'blocked', this.end());
    if (ended) {
      this.changed(flow);
      this.event('blocked', flow.flowId, caller, { clientIp: caller.ip });
    }
    throw new PageError('cross_network');
  }

  /** The last CLI login approved in the browser holding `loginSecret`; a database failure only costs the mention. */
  private async lastLogin(loginSecret: string | undefined): Promise<BrowserLogin | undefined> {
    try {
      return await this.logins.last(loginSecret);
    } catch (err) {
      this.deps.observer.trouble('login_history', 'could not read the login history', err);
      return undefined;
    }
  }

  private confirmStep(network: NetworkMatch, fromLink: boolean): ConfirmStep {
    const policy = this.deps.config.crossNetworkPolicy;
    if (network === 'same' || policy === 'warn') return 'confirm';
    if (policy === 'block') return 'blocked';
    return fromLink ? 'type_code' : 'confirm';
  }

  /**
   * Continue on the confirmation page: the step `CROSS_NETWORK_POLICY` asks is checked again
   * here (a refusal for `blocked`; for `type_code`, `typed` must be the flow's code, else
   * `code_mismatch`), then the browser is bound and sent to the provider.
   */
  async confirm(
    found: FoundFlow,
    caller: Caller,
    proof: { fromLink: boolean; typed: string | undefined },
  ): Promise<Authorization> {
    const step = this.confirmStep(networkMatch(found.flow.clientIp, caller.ip), proof.fromLink);
    if (step === 'blocked') await this.block(found.flow, caller);
    if (step === 'type_code' && normalizeUserCode(proof.typed) !== found.userCode) {
      throw new PageError('code_mismatch');
    }
    return this.authorize(found.flow, caller, {
      browserNetwork: networkMatch(found.flow.clientIp, caller.ip),
      codeSource: proof.fromLink ? 'link' : 'typed',
    });
  }

  /**
   * Bind the browser, then send it to the provider; `confirming`: how this browser reached the flow,
   * for the record (a retry keeps what the confirmation recorded).
   */
  private async authorize(flow: Flow, caller: Caller, confirming?: Confirming): Promise<Authorization> {
    const { store } = this.deps;
    const state = newState();
    const binding = newToken(32);
    const confirmed = await store.confirm(
      flow.flowId,
      hashSecret(state),
      hashSecret(binding),
      new Date(this.now()),
      confirming,
    );
    if (!confirmed) throw new PageError('already_used');
    this.event('confirmed', flow.flowId, caller);
    const redirectTo = this.deps.upstream.authorizeUrl({
      state,
      codeChallenge: codeChallenge(codeVerifier(binding, state)),
      redirectUri: this.redirectUri,
    });
    const maxAgeSeconds = Math.max(1, Math.ceil((flow.expiresAt.getTime() - this.now()) / 1000));
    return { redirectTo, binding: { flowId: flow.flowId, value: binding, maxAgeSeconds } };
  }

  /** After a failed exchange, the same browser may try again without retyping the code. */
  async retry(flowId: string, bindingOf: BindingOf, caller: Caller): Promise<Authorization> {
    // Flow ids are 16 base64url characters; anything else (e.g. a NUL byte) never reaches SQL.
    if (!/^[A-Za-z0-9_-]{16}$/.test(flowId)) throw new PageError('unknown_state');
    const flow = await this.deps.store.findByFlowId(flowId);
    if (!flow) throw new PageError('unknown_state');
    if (!confirmingBrowser({ events: this.events }, flow, bindingOf(flow.flowId), caller))
      throw new PageError('wrong_browser');
    const ended = endedReason(flow, this.now());
    if (ended) throw new PageError(ended);
    return this.authorize(flow, caller);
  }

  /** The user pressed Cancel on our confirmation page: the CLI learns `access_denied` at once. */
  async cancel(flow: Flow, caller: Caller): Promise<void> {
    const ended = await this.deps.store.deny(flow.flowId, 'cancelled', this.end());
    if (!ended) throw new PageError('already_used');
    this.changed(flow);
    this.event('cancelled', flow.flowId, caller);
  }

  /**
   * `grant_type=refresh_token` at the token endpoint (RFC 6749 §6): forwarded to the provider
   * with this server's client credentials (a confidential client's refresh needs them), within
   * the address's limit, storing nothing; the provider's answer comes back as it gave it.
   * Providers without refresh tokens refuse it (`unsupported_grant_type`).
   */
  async refresh(request: { refreshToken: string; scope?: string }, caller: Caller): Promise<RefreshAnswer> {
    const { upstream, limits, observer } = this.deps;
    if (!upstream.refresh) throw new UnsupportedGrantType(`Only ${DEVICE_CODE_GRANT_NAME} is supported`);
    const refusal = await limits.refresh(caller.ip, new Date(this.now()));
    if (refusal) {
      observer.rateLimited('refresh');
      throw new TooManyRequests(refusal.retryAfterSeconds);
    }
    let answer: RefreshAnswer;
    try {
      answer = await upstream.refresh(request);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      // Nothing the device can fix: it may try again later; an operator is told when the
      // provider refused this server (and the credentials check reports it).
      this.event('refresh_failed', undefined, caller, {
        reason: err.kind,
        detail: err.detail,
        status: err.status,
        ...(err.kind === 'misconfigured' ? { operatorError: true } : {}),
      });
      throw new TemporarilyUnavailable(
        err.kind === 'misconfigured'
          ? 'The provider refused this server; try again later.'
          : 'The provider could not be reached; try again.',
        REFRESH_RETRY_AFTER_SECONDS,
      );
    }
    this.event('refreshed', undefined, caller, {
      status: answer.status,
      ...(typeof answer.body.error === 'string' ? { error: answer.body.error } : {}),
    });
    return answer;
  }

  /**
   * GET /device/callback: the provider's answer, through the callback's steps
   * (`callback/index.ts`), each in its own file.
   */
  callback(input: CallbackInput, caller: Caller): Promise<CallbackResult> {
    return runCallback(this.callbackDeps, input, caller);
  }

  /**
   * Record the end of flows that ran out of time, delete flows past their expiry (and the grace
   * in which they still answer `expired_token`) and delivered flows past their redelivery grace:
   * how many ends were recorded.
   * A flow abandoned while pending is reported `expired` here, once, by whichever instance deleted it.
   */
  async purge(): Promise<number> {
    const now = this.now();
    const ended = await this.deps.store.purge(
      new Date(now - EXPIRED_KEPT_MS),
      new Date(now - REDELIVERY_GRACE_MS),
      this.end(now),
    );
    // Failures were reported when they happened, and unconfirmed deliveries when claimed.
    for (const flow of ended)
      if (flow.outcome === 'expired')
        this.deps.observer.flowEvent('expired', flow.flowId, { reason: flow.reason });
    return ended.length;
  }

  /**
   * What the statement ending a flow at `at` (now by default) records with it: when, this
   * instance, until when the event is kept, and whether webhooks are to send it.
   */
  private end(at = this.now()): EndRecord {
    return {
      now: new Date(at),
      instance: this.instance,
      keepUntil: new Date(at + this.deps.config.auditRetentionDays * DAY_MS),
      notify: this.deps.config.webhookUrls.length > 0,
    };
  }

  /** Note why `flow`'s exchange failed, for its record should it end so; a database failure costs only that. */
  private async noteFailure(flow: Flow, failure: string): Promise<void> {
    await this.deps.store
      .recordFailure(flow.flowId, failure)
      .catch((err) =>
        this.deps.observer.trouble('audit', 'could not note a failed exchange in the login record', err),
      );
  }

  /**
   * This instance changed `flow`: its memory stops answering "pending" for it now, and its held
   * polls wake, without waiting for the database's notification to come back (the other
   * instances hear that one).
   */
  private changed(flow: Flow): void {
    this.pending.invalidate(flow.deviceCodeHash.toString('hex'));
  }

  /** Report a flow event with the request it happened in (never a secret in `fields`). */
  private event(
    name: FlowEventName,
    flowId: string | undefined,
    caller: Caller,
    fields?: Record<string, unknown>,
  ): void {
    this.events.flow(name, flowId, caller, fields);
  }
}
