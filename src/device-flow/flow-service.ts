/**
 * The device flow (RFC 8628) as one service, and the one front door to it: start, the
 * browser's steps (look up, confirm, cancel, callback), the poll (`poller.ts`), and the upkeep
 * the process asks for (attach, detach, purge, what is held). Routes stay thin and speak HTTP;
 * every rule of the flow lives behind this class, which speaks neither HTTP nor SQL.
 */
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import { TemporarilyUnavailable, TooManyRequests } from '../oauth-errors.js';
import { type Channel, type PostizClient, UpstreamError } from '../postiz/client.js';
import type { CodeSighting, Confirming, EndRecord, Flow, RateRule, Store } from '../storage/store.js';
import { type NetworkMatch, networkMatch, siteKey } from './addresses.js';
import { type BrowserLogin, BrowserLogins, type Organization } from './browser-logins.js';
import { type BurnResult, CodeBurner } from './code-burner.js';
import {
  codeKey,
  hashSecret,
  isCodeText,
  newDeviceCode,
  newToken,
  newUserCode,
  normalizeUserCode,
  safeEqual,
} from './codes.js';
import { type FlowEventName, FlowEvents, type FlowObserver } from './events.js';
import { Organizations } from './organizations.js';
import { PageError, type PageErrorReason } from './page-error.js';
import { type NotificationState, PendingCache } from './pending-cache.js';
import { OFFICE_FLOWS, PendingCap } from './pending-cap.js';
import type { Hangup } from './pending-memory.js';
import { codeChallenge, codeVerifier, newState } from './pkce.js';
import { type PollAnswer, Poller, REDELIVERY_GRACE_MS } from './poller.js';
import type { RateLimits } from './rate-limits.js';
import { recipientKeyOffThread, seal } from './seal.js';

export type { FlowEventName, FlowObserver } from './events.js';
export type { IssuedToken, PollAnswer } from './poller.js';

export interface FlowServiceDeps {
  config: Config;
  store: Store;
  postiz: PostizClient;
  limits: RateLimits;
  observer: FlowObserver;
  now?: () => number;
  /** This instance's name in the audit trail (default: the host name and process id). */
  instance?: string;
}

/** Who is asking: the client address (for limits and the confirmation page) and the request id (for logs). */
export interface Caller extends Hangup {
  ip: string;
  reqId?: string;
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

/** How a flow ended in the browser, at the callback. */
export type CallbackOutcome = 'approved' | 'denied' | 'no_subscription' | 'token_refused';

/** What the callback's page needs to say. */
export interface CallbackResult {
  outcome: CallbackOutcome;
  flow: Flow;
  /** The organisation Postiz authorised (its id), when Postiz said. */
  organizationId?: string;
  /** The organisation as people know it: its id, and its channels when Postiz listed them. */
  organization?: Organization;
  /** For an approval: whether Postiz's public API took the new token (`unchecked`: it could not be asked). */
  check?: 'working' | 'unchecked';
  /**
   * For an approval: the last CLI login approved before in this browser, when it was for the
   * same organisation (Postiz ended it if the same person approved both).
   */
  replaced?: BrowserLogin;
  /**
   * For an approval: the browser's new login secret (a cookie), under which this login is now
   * kept; the one it sent no longer names anything. Absent when logins are not kept.
   */
  loginSecret?: string;
}

/**
 * Where to send the confirming browser, and the secret it must keep (a cookie, named by the
 * HTTP layer for `flowId`) that binds the callback to it, for `maxAgeSeconds`.
 */
export interface Authorization {
  redirectTo: string;
  binding: { flowId: string; value: string; maxAgeSeconds: number };
}

/** The browser's binding secret for a flow, as its request carries it (undefined: it has none). */
export type BindingOf = (flowId: string) => string | undefined;

/** A callback as it arrived: each query parameter's values (a repeated one has several). */
export interface CallbackInput {
  state: string[];
  code: string[];
  error: string[];
  /** The binding secret this browser holds for a flow. */
  bindingOf: BindingOf;
  /** The secret under which this browser's last approved login is kept (its cookie), if any. */
  loginSecret: string | undefined;
  /**
   * The browser fetched it as a sub-resource (`Sec-Fetch-Dest` other than `document`: an
   * image, a frame, a script), which a Postiz redirect never is.
   */
  subresource: boolean;
}

// An expired flow answers `expired_token` (not `invalid_grant`) for this long after expiry.
const EXPIRED_KEPT_MS = 60 * 60 * 1000;
const MAX_START_ATTEMPTS = 5;
/** `Retry-After` when the cap on live flows is reached and no live flow's expiry is known. */
const FULL_RETRY_AFTER_SECONDS = 30;
/**
 * How long a code's sighting is kept: codes live 10 minutes at Postiz and reach the callback
 * seconds after they are issued, so 15 minutes outlive any code. Every minute kept is space a
 * flood of junk codes can take (docs/security.md, "How big the record can grow").
 */
const CODE_KEPT_MS = 15 * 60 * 1000;
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

  constructor(private readonly deps: FlowServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.instance = deps.instance ?? `${hostname()}/${process.pid}`;
    this.organizations = new Organizations(deps.config.clientSecret);
    this.events = new FlowEvents(deps.observer);
    this.redirectUri = `${deps.config.serverUrl}/device/callback`;
    this.burner = new CodeBurner({
      postiz: deps.postiz,
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
      end: (at) => this.end(at),
      now: this.now,
    });
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
   * `code_mismatch`), then the browser is bound and sent to Postiz.
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
   * Bind the browser, then send it to Postiz; `confirming`: how this browser reached the flow,
   * for the record (a retry keeps what the confirmation recorded).
   */
  private async authorize(flow: Flow, caller: Caller, confirming?: Confirming): Promise<Authorization> {
    const { config, store } = this.deps;
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
    const url = new URL(`${config.postizFrontendUrl}/oauth/authorize`);
    url.searchParams.set('client_id', config.clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', codeChallenge(codeVerifier(binding, state)));
    url.searchParams.set('code_challenge_method', 'S256');
    const maxAgeSeconds = Math.max(1, Math.ceil((flow.expiresAt.getTime() - this.now()) / 1000));
    return { redirectTo: url.href, binding: { flowId: flow.flowId, value: binding, maxAgeSeconds } };
  }

  /** After a failed exchange, the same browser may try again without retyping the code. */
  async retry(flowId: string, bindingOf: BindingOf, caller: Caller): Promise<Authorization> {
    // Flow ids are 16 base64url characters; anything else (e.g. a NUL byte) never reaches SQL.
    if (!/^[A-Za-z0-9_-]{16}$/.test(flowId)) throw new PageError('unknown_state');
    const flow = await this.deps.store.findByFlowId(flowId);
    if (!flow) throw new PageError('unknown_state');
    this.checkBrowser(flow, bindingOf, caller);
    this.checkLive(flow);
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
   * GET /device/callback. Order matters: every check that can fail comes before the one
   * atomic claim of the `state`, so a refused callback leaves the flow usable, and a replayed
   * one never reaches Postiz twice. Every Postiz code that arrives is recorded, and belongs to
   * the first callback that carried it (`Store.sightCodes`): a code first seen at a refused
   * callback is never exchanged for any flow, one first seen at this flow's callback only for
   * this flow. Refused codes are also burned at Postiz (`CodeBurner`), as defence in depth.
   */
  async callback(input: CallbackInput, caller: Caller): Promise<CallbackResult> {
    const { store } = this.deps;
    // A code that cannot be one is never exchanged, so it needs no record either.
    const codes = input.code.filter(isCodeText);
    const refuse = async (reason: PageErrorReason, flow?: Flow): Promise<never> => {
      await this.refuseCodes(codes, caller, reason, flow, input.subresource);
      throw new PageError(reason);
    };
    // A repeated parameter is not a callback Postiz sends: refused, its first and last codes
    // recorded (a provider appends its own to a registered URL's parameters).
    if (input.state.length > 1 || input.code.length > 1 || input.error.length > 1)
      return refuse('bad_request');
    const [state] = input.state;
    const [code] = codes;
    const [error] = input.error;
    if (!state || state.length > 256 || (!code && !error) || codes.length !== input.code.length)
      return refuse('bad_request');
    const stateHash = hashSecret(state);
    // Every database step of the callback waits out a short outage (CALLBACK_RETRY_MS): the
    // browser is here now, and Postiz's code will not come back.
    const flow = await this.retrying(() => store.findByState(stateHash));
    if (!flow) return refuse('unknown_state');
    const ended = this.endedReason(flow);
    if (ended) return refuse(ended, flow);
    const binding = this.confirmingBrowser(flow, input.bindingOf, caller);
    if (!binding) return refuse('wrong_browser', flow);

    // The confirming browser sent this callback twice (a reload, a double request, perhaps to
    // another instance): the first copy holds the state and is using the code, which is
    // recorded as this flow's, so the refusal leaves it alone (a different code is refused).
    if (flow.stateClaimed) return refuse('already_used', flow);
    const now = new Date(this.now());
    if (code && !error) {
      const [sighting] = await this.retrying(() =>
        store.sightCodes([codeKey(code)], flow.flowId, new Date(now.getTime() + CODE_KEPT_MS)),
      );
      if (sighting!.flowId !== flow.flowId) {
        // Seen before at a refused callback, or at another flow's: an injected code. The state
        // is left unclaimed, so the confirming browser can still go back to Postiz.
        this.event('rejected_callback', flow.flowId, caller, { reason: 'code_seen_before' });
        throw new PageError('code_not_usable', { flowId: flow.flowId });
      }
    }
    const claimed = await this.retrying(() => store.claimState(stateHash, now));
    if (!claimed) throw new PageError('already_used');

    if (error) {
      // Postiz sends no code with an error; should one come along, it is refused too.
      await this.refuseCodes(codes, caller, 'unknown_state', flow, input.subresource);
      if (error !== 'access_denied') {
        this.event('failed', flow.flowId, caller, {
          reason: 'postiz_error',
          error: error.slice(0, 64),
        });
        await this.noteFailure(flow, 'provider_error');
        throw new PageError('upstream_unavailable', { flowId: flow.flowId });
      }
      await this.retrying(() => store.deny(flow.flowId, 'denied', this.end(now.getTime())));
      this.changed(flow);
      this.event('denied', flow.flowId, caller);
      return { outcome: 'denied', flow };
    }

    let token: Awaited<ReturnType<PostizClient['exchangeCode']>>;
    try {
      token = await this.deps.postiz.exchangeCode({
        code: code!,
        codeVerifier: codeVerifier(binding, state),
        redirectUri: this.redirectUri,
      });
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      this.event('failed', flow.flowId, caller, {
        reason: err.kind,
        detail: err.detail,
        status: err.status,
        ...(err.kind === 'misconfigured' ? { operatorError: true } : {}),
      });
      const reason =
        err.kind === 'rejected'
          ? 'upstream_rejected'
          : err.kind === 'misconfigured'
            ? 'misconfigured'
            : 'upstream_unavailable';
      await this.noteFailure(flow, `exchange_${err.kind}`);
      throw new PageError(reason, { flowId: flow.flowId });
    }
    const organizationId = token.organizationId;
    const { result: check, channels, channelCount } = await this.checkToken(token.accessToken, flow, caller);
    const organization: Organization = {
      ...(organizationId !== undefined ? { id: organizationId } : {}),
      ...(channels ? { channels, channelCount } : {}),
    };
    const recorded = organizationId !== undefined ? this.organizations.store(organizationId) : undefined;
    if (check === 'no_subscription' || check === 'token_refused') {
      // Credentials that every API call would refuse are not handed over: the CLI is told why,
      // and the token is dropped.
      await this.retrying(() => store.deny(flow.flowId, check, this.end(), recorded));
      this.changed(flow);
      this.event('refused_by_postiz', flow.flowId, caller, { reason: check, organizationId });
      return { outcome: check, flow, organizationId, organization };
    }
    const sealed = seal(
      JSON.stringify({ access_token: token.accessToken, organization_id: organizationId }),
      claimed.publicKey,
      claimed.deviceCodeHash,
    );
    // Postiz codes are single-use: this token cannot be fetched again, so hold it and keep
    // trying the write while the database is unreachable (CALLBACK_RETRY_MS).
    const approved = await this.retrying(() =>
      store.approve(flow.flowId, sealed, new Date(this.now()), recorded),
    );
    if (!approved) {
      // The device stopped waiting (the flow expired while Postiz answered): say so, not "logged in".
      throw new PageError(flow.expiresAt.getTime() <= this.now() ? 'expired' : 'already_used');
    }
    this.changed(flow);
    this.event('approved', flow.flowId, caller, { organizationId });
    const { replaced, loginSecret } = await this.rememberLogin(flow, organization, input.loginSecret);
    return {
      outcome: 'approved',
      flow: approved,
      organizationId,
      organization,
      check,
      replaced,
      loginSecret,
    };
  }

  /**
   * Keep this approval as the last CLI login of the approving browser, under a new secret (the
   * old one is forgotten): the new secret, and the login it followed when that was for the same
   * organisation. A database failure costs only the mention, never the login.
   */
  private async rememberLogin(
    flow: Flow,
    organization: Organization,
    previousSecret: string | undefined,
  ): Promise<{ replaced?: BrowserLogin; loginSecret?: string }> {
    const previous = await this.lastLogin(previousSecret);
    const replaced =
      previous && organization.id !== undefined && previous.organization.id === organization.id
        ? previous
        : undefined;
    try {
      const loginSecret = await this.logins.record(
        {
          approvedAt: new Date(this.now()),
          clientIp: flow.clientIp,
          userAgent: flow.userAgent,
          organization,
        },
        previousSecret,
      );
      return { ...(replaced ? { replaced } : {}), ...(loginSecret ? { loginSecret } : {}) };
    } catch (err) {
      this.deps.observer.trouble('login_history', 'could not record the login in the login history', err);
      return replaced ? { replaced } : {};
    }
  }

  /**
   * Ask Postiz's public API whether a new token works, within `TOKEN_CHECK_TIMEOUT_MS` (0: not
   * asked): `no_subscription` or `token_refused` when it refuses it, `working` (with its
   * organisation's channels when Postiz listed them), or `unchecked` when it could not tell.
   * Reported as `token_checked`.
   */
  private async checkToken(
    accessToken: string,
    flow: Flow,
    caller: Caller,
  ): Promise<{
    result: 'working' | 'unchecked' | 'no_subscription' | 'token_refused';
    channels?: Channel[];
    channelCount?: number;
  }> {
    const timeoutMs = this.deps.config.tokenCheckTimeoutMs;
    if (timeoutMs <= 0) return { result: 'unchecked' };
    const checked = await this.deps.postiz.checkToken(accessToken, timeoutMs);
    const result = checked.result === 'refused' ? 'token_refused' : checked.result;
    this.event('token_checked', flow.flowId, caller, {
      result,
      ...('status' in checked ? { status: checked.status } : {}),
      ...('detail' in checked ? { detail: checked.detail } : {}),
      ...('channelCount' in checked ? { channels: checked.channelCount } : {}),
    });
    return checked.result === 'working' ? { ...checked, result } : { result };
  }

  /**
   * Record the codes of a refused callback, so that none is ever exchanged (for any flow, on
   * any instance), unconditionally; then burn at Postiz the first one seen here for the first
   * time, if the request was not a sub-resource fetch and the budgets allow (at most one
   * upstream call per request). Reported as `code_burned` with what became of it. A callback
   * carries one code: of repeated ones, only the first and the last are recorded, so a request
   * never writes more than two rows.
   */
  private async refuseCodes(
    codes: string[],
    caller: Caller,
    refused: PageErrorReason,
    flow: Flow | undefined,
    subresource: boolean,
  ): Promise<void> {
    if (codes.length === 0) return;
    const unique = [...new Set([codes[0]!, codes.at(-1)!])];
    const now = this.now();
    let sightings: CodeSighting[];
    try {
      sightings = await this.retrying(() =>
        this.deps.store.sightCodes(unique.map(codeKey), null, new Date(now + CODE_KEPT_MS)),
      );
    } catch (err) {
      // Not recorded (the database stayed unreachable): burning is then all that protects them.
      this.deps.observer.trouble(
        'callback',
        'could not record the codes of a refused callback; burning them',
        err,
      );
      sightings = unique.map(() => ({ first: true, flowId: null }));
    }
    const fresh = unique.find((_, i) => sightings[i]!.first);
    const result: BurnResult =
      fresh === undefined
        ? 'repeated'
        : subresource
          ? 'subresource'
          : await this.burner.burn(fresh, caller.ip);
    this.event('code_burned', flow?.flowId, caller, { result, refused });
  }

  /** Retry a store call while the database is unreachable, for a bounded time (the callback holds a token). */
  private retrying<T>(fn: () => Promise<T>): Promise<T> {
    return this.events.retrying(fn);
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

  /** Why a flow can no longer be continued from the browser, if it cannot. */
  private endedReason(flow: Flow): PageErrorReason | undefined {
    if (flow.expiresAt.getTime() <= this.now()) return 'expired';
    if (flow.status !== 'pending') return 'already_used';
    return undefined;
  }

  private checkLive(flow: Flow): void {
    const ended = this.endedReason(flow);
    if (ended) throw new PageError(ended);
  }

  /**
   * The binding secret when this request comes from the browser that confirmed the flow
   * (constant-time compare), else undefined (logged as a rejected callback).
   */
  private confirmingBrowser(flow: Flow, bindingOf: BindingOf, caller: Caller): string | undefined {
    const value = bindingOf(flow.flowId);
    if (value && flow.browserHash && safeEqual(hashSecret(value), flow.browserHash)) return value;
    this.event('rejected_callback', flow.flowId, caller, { reason: 'wrong_browser' });
    return undefined;
  }

  /** The request must come from the browser that confirmed the flow. */
  private checkBrowser(flow: Flow, bindingOf: BindingOf, caller: Caller): void {
    if (!this.confirmingBrowser(flow, bindingOf, caller)) throw new PageError('wrong_browser');
  }
}
