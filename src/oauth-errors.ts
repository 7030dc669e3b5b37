/**
 * OAuth errors, one class per RFC error code, serialized in one place (`toOAuthBody`).
 * Anything else that escapes a route is a 500 whose details stay in the log. (Why a browser
 * page cannot go on is `device-flow/page-error.ts`.)
 */

/** Base class: an error the client may see, with its RFC code and HTTP status. */
export abstract class OAuthError extends Error {
  abstract readonly error: string;
  readonly statusCode: number = 400;
  /** Extra fields of the body, e.g. `interval` on `slow_down`. */
  readonly extra: Record<string, unknown> = {};
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Record<string, string> = {};

  constructor(readonly description?: string) {
    super(description);
  }
}

/** RFC 6749 §5.2: the request is missing a parameter or is otherwise malformed. */
export class InvalidRequest extends OAuthError {
  readonly error = 'invalid_request';
}

/** RFC 6749 §5.2: the device code is unknown, already used, or belongs to someone else. */
export class InvalidGrant extends OAuthError {
  readonly error = 'invalid_grant';
}

/** RFC 6749 §5.2: a `grant_type` other than the device code grant. */
export class UnsupportedGrantType extends OAuthError {
  readonly error = 'unsupported_grant_type';
}

/** RFC 8628 §3.5: the user has not finished yet. */
export class AuthorizationPending extends OAuthError {
  readonly error = 'authorization_pending';
}

/**
 * The answer to most polls, made once: an error object carries no per-request state, and
 * building one (with its stack trace) per poll was a measurable share of the hot path.
 */
export const PENDING = new AuthorizationPending();

/** RFC 8628 §3.5: polling too fast; the interval for this flow grew by 5 s. */
export class SlowDown extends OAuthError {
  readonly error = 'slow_down';
  constructor(interval: number) {
    super(`Polling too fast: wait ${interval} seconds between requests`);
    this.extra.interval = interval;
  }
}

/** RFC 8628 §3.5: the user refused, or cancelled on our confirmation page. */
export class AccessDenied extends OAuthError {
  readonly error = 'access_denied';
}

/** RFC 8628 §3.5: the flow's lifetime ran out; start again. */
export class ExpiredToken extends OAuthError {
  readonly error = 'expired_token';
}

/**
 * The provider issued the token but refuses it (a Postiz organisation without a subscription,
 * say): an error code and description its profile chose (`Upstream.refusal`). The postiz CLI
 * prints the `error` value ("Authorization failed: postiz_subscription_required"), so the code
 * names the problem.
 */
export class ProviderRefusal extends OAuthError {
  constructor(
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

/** Too many requests from one address; not an RFC 6749 code, but the one clients understand. */
export class TooManyRequests extends OAuthError {
  readonly error = 'too_many_requests';
  override readonly statusCode = 429;
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many requests: try again in ${retryAfterSeconds} seconds`);
    this.headers['retry-after'] = String(retryAfterSeconds);
  }
}

/** A body larger than the server accepts. */
export class PayloadTooLarge extends OAuthError {
  readonly error = 'invalid_request';
  override readonly statusCode = 413;
}

/** No such route. */
export class NotFound extends OAuthError {
  readonly error = 'not_found';
  override readonly statusCode = 404;
}

/** The server cannot do its job right now (e.g. the database is unreachable, or too many flows are live). */
export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable';
  override readonly statusCode = 503;
  constructor(description?: string, retryAfterSeconds?: number) {
    super(description);
    if (retryAfterSeconds !== undefined) this.headers['retry-after'] = String(retryAfterSeconds);
  }
}

/** The single JSON shape of every error body: `{error, error_description?, …extra}`. */
export interface OAuthErrorBody {
  error: string;
  error_description?: string;
  interval?: number;
}

/** Serialize an `OAuthError`; any other error becomes an opaque `server_error`. */
export function toOAuthBody(err: unknown): {
  statusCode: number;
  body: OAuthErrorBody;
  headers: Record<string, string>;
} {
  if (err instanceof OAuthError) {
    const body: OAuthErrorBody = { error: err.error, ...err.extra };
    if (err.description) body.error_description = err.description;
    return { statusCode: err.statusCode, body, headers: err.headers };
  }
  return {
    statusCode: 500,
    body: { error: 'server_error', error_description: 'The server could not answer; try again.' },
    headers: {},
  };
}
