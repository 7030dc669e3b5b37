/**
 * The upstream client: exchanging an authorization code at `{POSTIZ_API_URL}/oauth/token`
 * (docs/postiz.md). Every field of the answer is checked; every failure becomes an
 * `UpstreamError` whose `kind` says what the user and the operator should do about it.
 * Postiz's own error text is kept for the log only, never shown to a user.
 */

import { networkCause } from './network-error.js';

/** What a successful exchange yields. */
export interface PostizToken {
  accessToken: string;
  organizationId: string | undefined;
}

export interface ExchangeRequest {
  code: string;
  codeVerifier: string;
  redirectUri: string;
}

/**
 * - `unavailable`: 5xx, timeout, network error, or an answer we cannot read; worth retrying.
 * - `rejected`: Postiz refused the code (`invalid_grant`: expired, reused); retry from the start.
 * - `misconfigured`: Postiz refused *us* (`invalid_client`, `unsupported_grant_type`, a 400 about
 *   our request): an operator must fix the settings.
 */
export type UpstreamErrorKind = 'unavailable' | 'rejected' | 'misconfigured';

/** A failed exchange; `detail` is for the log (it never contains the code or the secret). */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(
    readonly kind: UpstreamErrorKind,
    readonly detail: string,
    readonly status?: number,
  ) {
    super(`Postiz token exchange failed (${kind}): ${detail}`);
  }
}

export interface PostizClientOptions {
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  /** Observes every upstream request (metrics). `status` is the HTTP status, or `error`/`timeout`. */
  onRequest?: (status: string, seconds: number) => void;
}

/** A connected channel of an organisation, as people know it: its name and platform. */
export interface Channel {
  name: string;
  /** The platform's identifier at Postiz (`x`, `linkedin`, `instagram`, …). */
  platform: string;
  disabled: boolean;
}

/** The most channels a token check keeps (it says how many there were in all). */
export const CHANNELS_KEPT = 10;

/**
 * What Postiz's public API says of a new token (`checkToken`):
 * - `working`: it answered 2xx, with the organisation's channels (when its answer listed them:
 *   at most `CHANNELS_KEPT`, and how many in all);
 * - `no_subscription`: 401 "No subscription found" (billing is on and the organisation has
 *   none; every public API call would be refused);
 * - `refused`: another 401 or 403;
 * - `unchecked`: no answer in time, a network error, or an answer that says nothing of the
 *   token (a 5xx, a 404 from a Postiz without the endpoint): the token may well work.
 */
export type TokenCheck =
  | { result: 'working'; channels?: Channel[]; channelCount?: number }
  | { result: 'no_subscription'; status: number }
  | { result: 'refused'; status: number }
  | { result: 'unchecked'; detail: string };

/** Talks to Postiz's API for one OAuth app. */
export interface PostizClient {
  exchangeCode(request: ExchangeRequest): Promise<PostizToken>;
  /**
   * Ask the public API whether `accessToken` works, and which channels its organisation has
   * (`GET /public/v1/integrations`, the token raw in `Authorization`, as `postiz auth:status`
   * checks it), within `timeoutMs`. Never throws; never logs or keeps the token.
   */
  checkToken(accessToken: string, timeoutMs: number): Promise<TokenCheck>;
}

/** A `PostizClient` over `fetch`. */
export function createPostizClient(options: PostizClientOptions): PostizClient {
  const endpoint = `${options.apiUrl}/oauth/token`;
  const checkEndpoint = `${options.apiUrl}/public/v1/integrations`;

  return {
    async exchangeCode({ code, codeVerifier, redirectUri }) {
      const started = performance.now();
      let response: Response;
      let text: string;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({
            grant_type: 'authorization_code',
            code,
            client_id: options.clientId,
            client_secret: options.clientSecret,
            // Ignored by Postiz for pca_ apps, required for pcd_ apps (docs/postiz.md).
            code_verifier: codeVerifier,
            redirect_uri: redirectUri,
          }),
          signal: AbortSignal.timeout(options.timeoutMs),
          // The secret and the code go to POSTIZ_API_URL and nowhere else: a redirect is a failure.
          redirect: 'error',
        });
        text = await response.text();
      } catch (err) {
        const timedOut = (err as Error).name === 'TimeoutError';
        options.onRequest?.(timedOut ? 'timeout' : 'error', (performance.now() - started) / 1000);
        // Name the setting and the cause: "fetch failed" alone sends an operator guessing.
        throw new UpstreamError(
          'unavailable',
          timedOut
            ? `POSTIZ_API_URL (${options.apiUrl}) gave no answer within ${options.timeoutMs} ms (UPSTREAM_TIMEOUT_MS)`
            : `POSTIZ_API_URL (${options.apiUrl}) cannot be reached: ${networkCause(err)}`,
        );
      }
      options.onRequest?.(String(response.status), (performance.now() - started) / 1000);
      return interpret(response.status, text);
    },

    async checkToken(accessToken, timeoutMs) {
      let response: Response;
      let text: string;
      try {
        response = await fetch(checkEndpoint, {
          // Raw, without "Bearer ": with the prefix Postiz answers 401 (docs/postiz.md).
          headers: { authorization: accessToken, accept: 'application/json' },
          signal: AbortSignal.timeout(timeoutMs),
          // The token goes to POSTIZ_API_URL and nowhere else.
          redirect: 'error',
        });
        text = await response.text();
      } catch (err) {
        const timedOut = (err as Error).name === 'TimeoutError';
        return {
          result: 'unchecked',
          detail: timedOut ? `no answer within ${timeoutMs} ms` : `cannot be reached: ${networkCause(err)}`,
        };
      }
      return readCheck(response.status, text);
    },
  };
}

/** What Postiz's public auth middleware says when billing is on and the organisation has no subscription. */
const NO_SUBSCRIPTION = /no subscription/i;

/** Turn the public API's answer to a token check into a `TokenCheck` (never echoing a body). */
export function readCheck(status: number, text: string): TokenCheck {
  if (status >= 200 && status < 300) return { result: 'working', ...readChannels(text) };
  if (status === 401 || status === 403) {
    let message = '';
    try {
      const body = JSON.parse(text) as { msg?: unknown; message?: unknown };
      message = String(body.msg ?? body.message ?? '');
    } catch {
      // Not JSON: a refusal all the same.
    }
    return NO_SUBSCRIPTION.test(message)
      ? { result: 'no_subscription', status }
      : { result: 'refused', status };
  }
  return { result: 'unchecked', detail: `HTTP ${status}` };
}

/** Printable text of at most `max` characters, or undefined. */
function label(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, max);
  return text === '' ? undefined : text;
}

/**
 * The channels in a list of integrations (`[{name, identifier, disabled, …}]`), the first
 * `CHANNELS_KEPT` of them and how many in all; nothing when the body is not such a list.
 */
function readChannels(text: string): { channels?: Channel[]; channelCount?: number } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {};
  }
  if (!Array.isArray(body)) return {};
  const channels: Channel[] = [];
  for (const item of body) {
    if (typeof item !== 'object' || item === null) continue;
    const fields = item as Record<string, unknown>;
    const name = label(fields.name, 100);
    if (!name) continue;
    channels.push({
      name,
      platform: label(fields.identifier ?? fields.providerIdentifier, 40) ?? '',
      disabled: fields.disabled === true,
    });
  }
  return { channels: channels.slice(0, CHANNELS_KEPT), channelCount: channels.length };
}

/** Turn Postiz's answer into a token or an `UpstreamError`. 200 and 201 both mean success. */
export function interpret(status: number, text: string): PostizToken {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fields =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  // Only Postiz's error code reaches the log: an error body may echo our request (code, secret).
  const errorCode =
    typeof fields?.error === 'string' ? fields.error.replace(/[^\w.-]/g, '').slice(0, 64) : undefined;
  const summary = `HTTP ${status}${errorCode ? ` ${errorCode}` : ''}`;

  if (status === 200 || status === 201) {
    // Never log a success body: even a broken one may hold a token.
    if (!fields) throw new UpstreamError('unavailable', 'unreadable success body', status);
    const token = fields.access_token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      throw new UpstreamError('unavailable', 'success without a usable access_token', status);
    }
    const id = fields.id;
    const organizationId =
      typeof id === 'string' && id.length > 0 ? id : typeof id === 'number' ? String(id) : undefined;
    return { accessToken: token, organizationId };
  }
  if (status >= 500 || status === 429 || status === 408) {
    throw new UpstreamError('unavailable', summary, status);
  }
  if (errorCode === 'invalid_grant') throw new UpstreamError('rejected', summary, status);
  if (errorCode === 'invalid_client' || status === 401) {
    throw new UpstreamError(
      'misconfigured',
      'invalid_client: check POSTIZ_OAUTH_CLIENT_ID and POSTIZ_OAUTH_CLIENT_SECRET, and that the app still exists in Postiz',
      status,
    );
  }
  throw new UpstreamError('misconfigured', summary, status);
}
