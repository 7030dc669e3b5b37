/**
 * The seam between the device flow and the OAuth 2.0 provider it bridges to: everything the
 * core (`device-flow/`, `storage/`, `http/`) asks of a provider, and nothing it knows of one.
 * Each provider is a profile behind this interface: `postiz/` (the default) and `oauth/` (any
 * OAuth 2.0 or OpenID Connect authorization server); docs/providers.md says what a provider
 * must offer and how to add one.
 */

/**
 * How an exchange (or a refresh) failed:
 * - `unavailable`: a 5xx, a timeout, a network error, an answer that cannot be read; worth
 *   retrying;
 * - `rejected`: the provider refused the code (`invalid_grant`: expired, reused); the user tries
 *   again from the start;
 * - `misconfigured`: the provider refused *us* (`invalid_client`, a request it cannot take): an
 *   operator must fix the settings.
 */
export type UpstreamErrorKind = 'unavailable' | 'rejected' | 'misconfigured';

/** A failed call to the provider; `detail` is for the log (it never holds a code, token or secret). */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(
    readonly kind: UpstreamErrorKind,
    readonly detail: string,
    readonly status?: number,
  ) {
    super(`the provider's token endpoint failed (${kind}): ${detail}`);
  }
}

/** An authorization code to exchange, with what PKCE and RFC 6749 §4.1.3 send along. */
export interface ExchangeRequest {
  code: string;
  codeVerifier: string;
  redirectUri: string;
}

/** A thing people recognise an account by (a Postiz organisation's channels). */
export interface Channel {
  name: string;
  /** The platform's identifier (`x`, `linkedin`, …). */
  platform: string;
  disabled: boolean;
}

/** What a token opens, as the pages and the record name it. */
export interface Account {
  /** The provider's id for it (a Postiz organisation id; an OpenID Connect subject). */
  id?: string;
  /** A name people recognise (an OpenID Connect user's name or e-mail address). */
  name?: string;
  /** What people recognise it by, when the provider lists them: at most 10, and how many in all. */
  channels?: Channel[];
  channelCount?: number;
}

/** A token from the code exchange. */
export interface Grant {
  /** The access token, for the check (never kept anywhere else). */
  accessToken: string;
  /** What is sealed for the device (the provider's answer, as its profile keeps it). */
  sealed: Record<string, unknown>;
  /** What the answer says of the account the token opens. */
  account: Account;
}

/**
 * What the provider says of a new token:
 * - `working`: it took it (and perhaps said more of the account);
 * - `refused`: it refuses it (`reason`, a word of the profile's: the device is told
 *   `refusal(reason)`, and the token is dropped);
 * - `unchecked`: it could not be asked, or its answer says nothing of the token: handed over.
 */
export type TokenCheck =
  | { result: 'working'; account?: Account }
  | { result: 'refused'; reason: string; status: number }
  | { result: 'unchecked'; detail: string };

/** What the device is told when the provider refused its new token: an OAuth error code and why. */
export interface Refusal {
  error: string;
  description: string;
}

/** What the provider answered a refresh (RFC 6749 §6), forwarded as it is, stripped to its fields. */
export interface RefreshAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** A JSON Schema of an object: the fields of a profile's token answer, and which are always there. */
export interface TokenAnswerSchema {
  required: readonly string[];
  properties: Record<string, { type: 'string' | 'integer'; description?: string }>;
}

/** One OAuth 2.0 provider, as the device flow uses it. */
export interface Upstream {
  /** The profile's name (`postiz`, `oauth`): settings, logs, `/ready`. */
  readonly id: string;
  /** What pages call the provider (`Postiz`) and the client logging in (`Postiz CLI`), and the command that starts a login, if the client has one. */
  readonly names: { provider: string; client: string; command?: string };
  /** The origin browsers are sent to (the pages' CSP allows forms to post there). */
  readonly authorizeOrigin: string;
  /** The authorization request (RFC 6749 §4.1.1) a confirmed browser is sent to. */
  authorizeUrl(request: { state: string; codeChallenge: string; redirectUri: string }): string;
  /** Exchange a code for a token; throws `UpstreamError`. */
  exchangeCode(request: ExchangeRequest): Promise<Grant>;
  /** Ask whether a new token works, within `timeoutMs` (0: not asked). Never throws. */
  checkToken(grant: Grant, timeoutMs: number): Promise<TokenCheck>;
  /** The device's token answer (RFC 8628 §3.5, RFC 6749 §5.1) for a sealed grant, at `now` (ms). */
  tokenAnswer(sealed: Record<string, unknown>, now: number): Record<string, unknown>;
  /** The device's token answer (`tokenAnswer`) as JSON Schema, for the API's OpenAPI document. */
  readonly tokenAnswerSchema: TokenAnswerSchema;
  /** What the device is told when the provider refused its token for `reason`. */
  refusal(reason: string): Refusal;
  /** Whether `code` is shaped like this provider's codes (worth redeeming, to burn it). */
  isCodeShaped(code: string): boolean;
  /** A code shaped like the provider's that it never issued, to check our credentials with. */
  junkCode(): string;
  /** How long the provider's authorization codes live. */
  readonly codeLifetimeMs: number;
  /** A URL whose answer, any answer, says the provider can be reached. */
  readonly probeUrl: string;
  /** The settings an operator checks when the provider refuses our credentials. */
  readonly credentialSettings: readonly string[];
  /**
   * Forward a refresh request (RFC 6749 §6) with this server's client credentials, storing
   * nothing: the provider's answer, or an `UpstreamError` when it could not be asked or refused
   * this server (`misconfigured`). Absent when the provider issues no refresh tokens.
   */
  refresh?(request: { refreshToken: string; scope?: string }): Promise<RefreshAnswer>;
}
