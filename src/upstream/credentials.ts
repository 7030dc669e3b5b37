/**
 * Whether the provider accepts this server's OAuth client credentials (Postiz:
 * POSTIZ_OAUTH_CLIENT_ID and POSTIZ_OAUTH_CLIENT_SECRET), known before a user's login fails at
 * the code exchange.
 *
 * The check exchanges a junk code: shaped like the provider's codes (`Upstream.junkCode`) but
 * drawn at random here, so never one it issued. An authorization server checks the client
 * before the code (RFC 6749 §5.2; Postiz does: docs/postiz.md): wrong credentials get
 * `invalid_client`, right ones `invalid_grant` for the unknown code. The junk code goes straight
 * to the provider: it is never recorded as a sighting, never burned, never logged, and no flow is
 * made for it.
 *
 * Checked at start-up, then periodically; every real exchange (a login's, a burned code's) also
 * (and every forwarded refresh) says what it learnt of the credentials (`reportingCredentials`), so a login that meets
 * `invalid_client` flips the state at once. Each change of state is logged once.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { periodic } from './periodic.js';
import type { Reachability } from './reachability.js';
import { type Upstream, UpstreamError } from './upstream.js';

/** `accepted`: the provider took our credentials at the last answer; `refused`: it refused *us*; `unknown`: no answer yet. */
export type CredentialsState = 'accepted' | 'refused' | 'unknown';

/** What /ready says of the provider: its reachability, or `misconfigured` when it refuses our credentials. */
export type UpstreamStatus = Reachability | 'misconfigured';

export interface CredentialsCheck {
  /** The last known state. */
  state(): CredentialsState;
  /** Exchange a junk code now (a check already under way is shared). */
  check(): Promise<CredentialsState>;
  /** What a real exchange's answer said of the credentials. */
  observe(outcome: 'accepted' | 'refused', detail?: string): void;
  /** Check now, then every `intervalMs` (unref'd) until `stop()`. */
  start(intervalMs: number): void;
  stop(): void;
}

export interface CredentialsCheckOptions {
  /** The provider, holding the configured credentials. */
  upstream: Upstream;
  /** Sent as `redirect_uri`, as a real exchange sends it (`{SERVER_URL}/device/callback`). */
  redirectUri: string;
  log?: FastifyBaseLogger;
}

/** How often the server checks (`server.ts`): an exchange at the provider's token endpoint, rarer than the reachability probe. */
export const CREDENTIALS_CHECK_EVERY_MS = 5 * 60_000;

/** What an exchange's failure says of the credentials: `misconfigured` is the provider refusing us. */
function outcomeOf(err: unknown): 'accepted' | 'refused' | undefined {
  if (!(err instanceof UpstreamError)) return undefined;
  if (err.kind === 'misconfigured') return 'refused';
  // The code was refused, so the client was accepted; `unavailable` says nothing of it.
  if (err.kind === 'rejected') return 'accepted';
  return undefined;
}

/** A check of `options.upstream`'s credentials; nothing is sent until `check()` or `start()`. */
export function createCredentialsCheck(options: CredentialsCheckOptions): CredentialsCheck {
  let current: CredentialsState = 'unknown';

  const { provider } = options.upstream.names;
  const settings = options.upstream.credentialSettings.join(' and ');
  const observe = (next: 'accepted' | 'refused', detail?: string): void => {
    if (next === current) return;
    if (next === 'refused') {
      options.log?.warn(
        { credentials: next, detail },
        `${provider} refuses this server's OAuth credentials: check ${settings}, and that the app still exists in ${provider}. Every login fails at the code exchange until they are right.`,
      );
    } else if (current === 'refused') {
      options.log?.info(
        { credentials: next },
        `${provider} accepts this server's OAuth credentials again (${options.upstream.credentialSettings.join(', ')})`,
      );
    } else {
      options.log?.info({ credentials: next }, `${provider} accepts this server's OAuth credentials`);
    }
    current = next;
  };

  const exchangeJunk = async (): Promise<CredentialsState> => {
    let outcome: 'accepted' | 'refused' | undefined;
    let detail: string | undefined;
    try {
      // A token for a code drawn at random cannot happen; should it, the client was accepted
      // (and the token is dropped here, unread).
      await options.upstream.exchangeCode({
        code: options.upstream.junkCode(),
        codeVerifier: randomBytes(32).toString('base64url'),
        redirectUri: options.redirectUri,
      });
      outcome = 'accepted';
    } catch (err) {
      outcome = outcomeOf(err);
      detail = err instanceof UpstreamError ? err.detail : undefined;
    }
    if (outcome && !schedule.stopped) observe(outcome, detail);
    return current;
  };
  const schedule = periodic(exchangeJunk);

  return {
    state: () => current,
    check: schedule.check,
    observe,
    start: schedule.start,
    stop: schedule.stop,
  };
}

/** `upstream`, telling `credentials` what each exchange's answer said of the credentials. */
export function reportingCredentials(upstream: Upstream, credentials: CredentialsCheck): Upstream {
  const exchangeCode: Upstream['exchangeCode'] = async (request) => {
    try {
      const grant = await upstream.exchangeCode(request);
      credentials.observe('accepted');
      return grant;
    } catch (err) {
      const outcome = outcomeOf(err);
      if (outcome) credentials.observe(outcome, err instanceof UpstreamError ? err.detail : undefined);
      throw err;
    }
  };
  const refresh: Upstream['refresh'] = upstream.refresh
    ? async (request) => {
        try {
          const answer = await upstream.refresh!(request);
          credentials.observe('accepted');
          return answer;
        } catch (err) {
          if (err instanceof UpstreamError && err.kind === 'misconfigured')
            credentials.observe('refused', err.detail);
          throw err;
        }
      }
    : undefined;
  return Object.assign(Object.create(upstream) as Upstream, { exchangeCode, refresh });
}

/** What /ready says of the provider: unreachable first (nothing else can be known then), then refused credentials. */
export function upstreamStatus(reachability: Reachability, credentials: CredentialsState): UpstreamStatus {
  if (reachability !== 'unreachable' && credentials === 'refused') return 'misconfigured';
  return reachability;
}
