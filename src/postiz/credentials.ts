/**
 * Whether Postiz accepts this server's OAuth credentials (POSTIZ_OAUTH_CLIENT_ID and
 * POSTIZ_OAUTH_CLIENT_SECRET), known before a user's login fails at the code exchange.
 *
 * The check exchanges a junk code: shaped like a Postiz code (32 letters and digits) but drawn
 * at random here, so never one Postiz issued. Postiz checks the client before the code
 * (docs/postiz.md): wrong credentials get 401 `invalid_client`, right ones 400 `invalid_grant`
 * for the unknown code. The junk code goes straight to the Postiz client: it is never recorded
 * as a sighting, never burned, never logged, and no flow is made for it.
 *
 * Checked at start-up, then periodically; every real exchange (a login's, a burned code's) also
 * says what it learnt of the credentials (`reportingCredentials`), so a login that meets
 * `invalid_client` flips the state at once. Each change of state is logged once.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { type PostizClient, UpstreamError } from './client.js';
import type { Reachability } from './reachability.js';

/** `accepted`: Postiz took our credentials at the last answer; `refused`: it refused *us*; `unknown`: no answer yet. */
export type CredentialsState = 'accepted' | 'refused' | 'unknown';

/** What /ready says of Postiz: its reachability, or `misconfigured` when it refuses our credentials. */
export type PostizStatus = Reachability | 'misconfigured';

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
  /** The client holding the configured credentials. */
  client: PostizClient;
  /** Sent as `redirect_uri`, as a real exchange sends it (`{SERVER_URL}/device/callback`). */
  redirectUri: string;
  log?: FastifyBaseLogger;
}

/** How often the server checks (`server.ts`): an exchange at Postiz's token endpoint, rarer than the reachability probe. */
export const CREDENTIALS_CHECK_EVERY_MS = 5 * 60_000;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 32 random letters and digits: a Postiz code's shape (about 190 bits), never one Postiz issued. */
export function junkCode(): string {
  let code = '';
  for (let i = 0; i < 32; i++) code += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return code;
}

/** What an exchange's failure says of the credentials: `misconfigured` is Postiz refusing us. */
function outcomeOf(err: unknown): 'accepted' | 'refused' | undefined {
  if (!(err instanceof UpstreamError)) return undefined;
  if (err.kind === 'misconfigured') return 'refused';
  // The code was refused, so the client was accepted; `unavailable` says nothing of it.
  if (err.kind === 'rejected') return 'accepted';
  return undefined;
}

/** A check of `options.client`'s credentials; nothing is sent until `check()` or `start()`. */
export function createCredentialsCheck(options: CredentialsCheckOptions): CredentialsCheck {
  let current: CredentialsState = 'unknown';
  let running: Promise<CredentialsState> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const observe = (next: 'accepted' | 'refused', detail?: string): void => {
    if (next === current) return;
    if (next === 'refused') {
      options.log?.warn(
        { postizCredentials: next, detail },
        "Postiz refuses this server's OAuth credentials: check POSTIZ_OAUTH_CLIENT_ID and POSTIZ_OAUTH_CLIENT_SECRET, and that the app still exists in Postiz. Every login fails at the code exchange until they are right.",
      );
    } else if (current === 'refused') {
      options.log?.info(
        { postizCredentials: next },
        "Postiz accepts this server's OAuth credentials again (POSTIZ_OAUTH_CLIENT_ID, POSTIZ_OAUTH_CLIENT_SECRET)",
      );
    } else {
      options.log?.info({ postizCredentials: next }, "Postiz accepts this server's OAuth credentials");
    }
    current = next;
  };

  const exchangeJunk = async (): Promise<CredentialsState> => {
    let outcome: 'accepted' | 'refused' | undefined;
    let detail: string | undefined;
    try {
      // A token for a code drawn at random cannot happen; should it, the client was accepted
      // (and the token is dropped here, unread).
      await options.client.exchangeCode({
        code: junkCode(),
        codeVerifier: randomBytes(32).toString('base64url'),
        redirectUri: options.redirectUri,
      });
      outcome = 'accepted';
    } catch (err) {
      outcome = outcomeOf(err);
      detail = err instanceof UpstreamError ? err.detail : undefined;
    }
    if (outcome && !stopped) observe(outcome, detail);
    return current;
  };

  const check = (): Promise<CredentialsState> => {
    running ??= exchangeJunk().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    state: () => current,
    check,
    observe,
    start(intervalMs) {
      stopped = false;
      clearInterval(timer);
      void check();
      timer = setInterval(() => void check(), intervalMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** `client`, telling `credentials` what each exchange's answer said of the credentials. */
export function reportingCredentials(client: PostizClient, credentials: CredentialsCheck): PostizClient {
  return {
    async exchangeCode(request) {
      try {
        const token = await client.exchangeCode(request);
        credentials.observe('accepted');
        return token;
      } catch (err) {
        const outcome = outcomeOf(err);
        if (outcome) credentials.observe(outcome, err instanceof UpstreamError ? err.detail : undefined);
        throw err;
      }
    },
    checkToken: (accessToken, timeoutMs) => client.checkToken(accessToken, timeoutMs),
  };
}

/** What /ready says of Postiz: unreachable first (nothing else can be known then), then refused credentials. */
export function postizStatus(reachability: Reachability, credentials: CredentialsState): PostizStatus {
  if (reachability !== 'unreachable' && credentials === 'refused') return 'misconfigured';
  return reachability;
}
