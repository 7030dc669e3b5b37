/**
 * The device flow (RFC 8628) as one service: start, the browser's steps (look up, confirm,
 * cancel, callback) and the poll. Routes stay thin; every rule of the flow lives here.
 */
import type { Config } from '../config.js';
import {
  AccessDenied,
  AuthorizationPending,
  ExpiredToken,
  InvalidGrant,
  PageError,
  SlowDown,
  TooManyRequests,
} from '../errors.js';
import { type PostizClient, UpstreamError } from '../postiz/client.js';
import type { Flow, Store } from '../storage/store.js';
import { hashSecret, newDeviceCode, newToken, newUserCode, normalizeUserCode, safeEqual } from './codes.js';
import { codeChallenge, codeVerifier, newState } from './pkce.js';
import type { RateLimits } from './rate-limits.js';
import { open, recipientKey, seal } from './seal.js';

/** What happened to a flow, for logs and metrics (never carries a secret). */
export type FlowEventName =
  | 'started'
  | 'code_entered'
  | 'confirmed'
  | 'approved'
  | 'denied'
  | 'cancelled'
  | 'expired'
  | 'delivered'
  | 'failed'
  | 'rejected_callback';

export interface FlowObserver {
  flowEvent(event: FlowEventName, flowId: string, fields?: Record<string, unknown>): void;
  rateLimited(route: 'device_code' | 'verify' | 'token'): void;
  poll(result: string): void;
}

export interface FlowServiceDeps {
  config: Config;
  store: Store;
  postiz: PostizClient;
  limits: RateLimits;
  observer: FlowObserver;
  now?: () => number;
}

/** The device authorization response (RFC 8628 §3.2), before serialization. */
export interface StartedFlow {
  flowId: string;
  deviceCode: string;
  userCode: string;
  expiresIn: number;
  interval: number;
}

/** A successful poll (RFC 8628 §3.5 / RFC 6749 §5.1), with Postiz's organisation. */
export interface IssuedToken {
  accessToken: string;
  organizationId: string | undefined;
}

/** A flow the browser found by its user code. */
export interface FoundFlow {
  flow: Flow;
  userCode: string;
}

/** Where to send the confirming browser, and the cookie that binds the callback to it. */
export interface Authorization {
  redirectTo: string;
  binding: { name: string; value: string; maxAgeSeconds: number };
}

export interface CallbackInput {
  state: string | undefined;
  code: string | undefined;
  error: string | undefined;
  cookies: Record<string, string | undefined>;
}

const POLL_TOLERANCE_MS = 1000;
// An expired flow answers `expired_token` (not `invalid_grant`) for this long after expiry.
const EXPIRED_KEPT_MS = 60 * 60 * 1000;
const MAX_START_ATTEMPTS = 5;

/** The name of the cookie binding a flow's callback to the browser that confirmed it. */
export function bindingCookieName(flowId: string, secure: boolean): string {
  // `__Host-` (https only): no Domain, Path=/, Secure, so no sibling host can plant one.
  return `${secure ? '__Host-' : ''}pca_bind_${flowId}`;
}

/** The device flow. */
export class FlowService {
  private readonly now: () => number;
  private readonly secureCookies: boolean;
  private readonly redirectUri: string;

  constructor(private readonly deps: FlowServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.secureCookies = deps.config.serverUrl.startsWith('https:');
    this.redirectUri = `${deps.config.serverUrl}/device/callback`;
  }

  /** POST /device/code: a new flow for a device at `clientIp`. */
  async start(clientIp: string, userAgent: string | undefined): Promise<StartedFlow> {
    const { config, store, limits, observer } = this.deps;
    const now = new Date(this.now());
    const refusal = await limits.flowStart(clientIp, now);
    if (refusal) {
      observer.rateLimited('device_code');
      throw new TooManyRequests(refusal.retryAfterSeconds);
    }
    for (let attempt = 0; attempt < MAX_START_ATTEMPTS; attempt++) {
      const deviceCode = newDeviceCode();
      const userCode = newUserCode();
      const flowId = newToken(12);
      const created = await store.createFlow({
        flowId,
        deviceCodeHash: hashSecret(deviceCode),
        userCodeHash: hashSecret(userCode),
        publicKey: recipientKey(deviceCode),
        clientIp,
        userAgent: userAgent?.slice(0, 512) ?? null,
        intervalSeconds: config.pollIntervalSeconds,
        createdAt: now,
        expiresAt: new Date(now.getTime() + config.deviceCodeTtlSeconds * 1000),
      });
      if (created) {
        observer.flowEvent('started', flowId, { clientIp });
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

  /** The browser typed (or followed a link with) a user code: find its live flow. */
  async lookup(input: unknown, clientIp: string): Promise<FoundFlow> {
    const { store, limits, observer } = this.deps;
    const now = new Date(this.now());
    const refusal = await limits.userCodeAllowed(clientIp, now);
    if (refusal) {
      observer.rateLimited('verify');
      throw new PageError('rate_limited', { retryAfterSeconds: refusal.retryAfterSeconds });
    }
    const userCode = normalizeUserCode(input);
    const flow = userCode ? await store.findByUserCode(hashSecret(userCode)) : undefined;
    if (!userCode || !flow) {
      await limits.wrongUserCode(clientIp, now);
      throw new PageError('invalid_code');
    }
    if (flow.expiresAt.getTime() <= now.getTime()) throw new PageError('expired');
    if (flow.status !== 'pending') throw new PageError('already_used');
    observer.flowEvent('code_entered', flow.flowId, { clientIp });
    return { flow, userCode };
  }

  /** The user confirmed on our page: bind the browser, then send it to Postiz. */
  async authorize(flow: Flow): Promise<Authorization> {
    const { config, store, observer } = this.deps;
    const state = newState();
    const binding = newToken(32);
    const confirmed = await store.confirm(
      flow.flowId,
      hashSecret(state),
      hashSecret(binding),
      new Date(this.now()),
    );
    if (!confirmed) throw new PageError('already_used');
    observer.flowEvent('confirmed', flow.flowId);
    const url = new URL(`${config.postizFrontendUrl}/oauth/authorize`);
    url.searchParams.set('client_id', config.clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', codeChallenge(codeVerifier(state)));
    url.searchParams.set('code_challenge_method', 'S256');
    const maxAgeSeconds = Math.max(1, Math.ceil((flow.expiresAt.getTime() - this.now()) / 1000));
    return {
      redirectTo: url.href,
      binding: { name: bindingCookieName(flow.flowId, this.secureCookies), value: binding, maxAgeSeconds },
    };
  }

  /** After a failed exchange, the same browser may try again without retyping the code. */
  async retry(flowId: string, cookies: Record<string, string | undefined>): Promise<Authorization> {
    const flow = await this.deps.store.findByFlowId(flowId);
    if (!flow) throw new PageError('unknown_state');
    this.checkBrowser(flow, cookies);
    this.checkLive(flow);
    return this.authorize(flow);
  }

  /** The user pressed Cancel on our confirmation page: the CLI learns `access_denied` at once. */
  async cancel(flow: Flow): Promise<void> {
    const ended = await this.deps.store.deny(flow.flowId, 'cancelled', new Date(this.now()));
    if (!ended) throw new PageError('already_used');
    this.deps.observer.flowEvent('cancelled', flow.flowId);
  }

  /**
   * GET /device/callback. Order matters: every check that can fail comes before the one
   * atomic claim of the `state`, so a refused callback leaves the flow usable, and a replayed
   * one never reaches Postiz twice.
   */
  async callback(input: CallbackInput): Promise<{ outcome: 'approved' | 'denied'; flow: Flow }> {
    const { store, observer } = this.deps;
    if (!input.state || input.state.length > 256 || (!input.code && !input.error)) {
      throw new PageError('bad_request');
    }
    const stateHash = hashSecret(input.state);
    const flow = await store.findByState(stateHash);
    if (!flow) throw new PageError('unknown_state');
    this.checkLive(flow);
    this.checkBrowser(flow, input.cookies);

    const now = new Date(this.now());
    const claimed = await store.claimState(stateHash, now);
    if (!claimed) throw new PageError('unknown_state');

    if (input.error) {
      if (input.error !== 'access_denied') {
        observer.flowEvent('failed', flow.flowId, {
          reason: 'postiz_error',
          error: input.error.slice(0, 64),
        });
        throw new PageError('upstream_unavailable', { flowId: flow.flowId });
      }
      await store.deny(flow.flowId, 'denied', now);
      observer.flowEvent('denied', flow.flowId);
      return { outcome: 'denied', flow };
    }

    let token: Awaited<ReturnType<PostizClient['exchangeCode']>>;
    try {
      token = await this.deps.postiz.exchangeCode({
        code: input.code!,
        codeVerifier: codeVerifier(input.state),
        redirectUri: this.redirectUri,
      });
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      observer.flowEvent('failed', flow.flowId, { reason: err.kind, detail: err.detail, status: err.status });
      const reason =
        err.kind === 'rejected'
          ? 'upstream_rejected'
          : err.kind === 'misconfigured'
            ? 'misconfigured'
            : 'upstream_unavailable';
      throw new PageError(reason, { flowId: flow.flowId });
    }
    const sealed = seal(
      JSON.stringify({ access_token: token.accessToken, organization_id: token.organizationId }),
      claimed.publicKey,
      claimed.deviceCodeHash,
    );
    const approved = await store.approve(flow.flowId, sealed, new Date(this.now()));
    if (!approved) throw new PageError('already_used');
    observer.flowEvent('approved', flow.flowId, { organizationId: token.organizationId });
    return { outcome: 'approved', flow: approved };
  }

  /**
   * POST /device/token, in one order: every fallible check first, then the one atomic claim
   * (`DELETE … RETURNING`), so a token is handed out once across all instances.
   */
  async poll(deviceCode: string, clientIp: string): Promise<IssuedToken> {
    const { store, limits, observer } = this.deps;
    const now = new Date(this.now());
    const deviceCodeHash = hashSecret(deviceCode);
    const record = await store.recordPoll(deviceCodeHash, now, POLL_TOLERANCE_MS);
    if (!record) {
      const refusal = await limits.unknownDeviceCode(clientIp, now);
      if (refusal) {
        observer.rateLimited('token');
        throw new TooManyRequests(refusal.retryAfterSeconds);
      }
      throw new InvalidGrant('Unknown or already used device_code');
    }
    const { flow, slowDown } = record;
    if (flow.expiresAt.getTime() <= now.getTime()) {
      if (flow.status === 'pending') observer.flowEvent('expired', flow.flowId);
      throw new ExpiredToken('The device code has expired: start again');
    }
    if (slowDown) throw new SlowDown(flow.intervalSeconds);
    if (flow.status === 'denied' || flow.status === 'cancelled') {
      throw new AccessDenied(
        flow.status === 'denied' ? 'The user denied the request' : 'The user cancelled the request',
      );
    }
    if (flow.status === 'pending') throw new AuthorizationPending();

    const sealed = await store.claimToken(deviceCodeHash);
    if (!sealed) throw new InvalidGrant('Unknown or already used device_code');
    const opened = JSON.parse(open(sealed, deviceCode, deviceCodeHash)) as {
      access_token: string;
      organization_id?: string;
    };
    observer.flowEvent('delivered', flow.flowId);
    return { accessToken: opened.access_token, organizationId: opened.organization_id };
  }

  /** Delete flows past their expiry (and the grace in which they still answer `expired_token`). */
  async purge(): Promise<number> {
    const now = this.now();
    return this.deps.store.purge(new Date(now - EXPIRED_KEPT_MS), new Date(now));
  }

  private checkLive(flow: Flow): void {
    if (flow.expiresAt.getTime() <= this.now()) throw new PageError('expired');
    if (flow.status !== 'pending') throw new PageError('already_used');
  }

  /** The callback must come back to the browser that confirmed (constant-time compare). */
  private checkBrowser(flow: Flow, cookies: Record<string, string | undefined>): void {
    const value = cookies[bindingCookieName(flow.flowId, this.secureCookies)];
    if (!value || !flow.browserHash || !safeEqual(hashSecret(value), flow.browserHash)) {
      this.deps.observer.flowEvent('rejected_callback', flow.flowId, { reason: 'wrong_browser' });
      throw new PageError('wrong_browser');
    }
  }
}
