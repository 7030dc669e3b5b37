/**
 * The generic profile: any OAuth 2.0 or OpenID Connect authorization server that offers the
 * authorization-code grant to a confidential client (docs/providers.md). The browser authorizes
 * at the provider's authorization endpoint with PKCE S256 (RFC 7636); codes are exchanged at its
 * token endpoint (RFC 6749 §4.1.3), the client authenticating with `client_secret_basic` or
 * `client_secret_post` (§2.3.1); a new token may be checked at the userinfo endpoint (OpenID
 * Connect Core §5.3) or by introspection (RFC 7662). The device receives the provider's token
 * answer as RFC 8628 §3.5 and RFC 6749 §5.1 say, sealed at rest like any other; and, since a
 * confidential client's refresh needs the client secret, refresh requests are forwarded with it
 * (RFC 6749 §6), storing nothing.
 */
import { randomBytes } from 'node:crypto';
import { authorizationUrl } from '../authorize-url.js';
import { call, errorCodeOf, jsonObject, printable, successAnswer } from '../http.js';
import { networkCause } from '../network-error.js';
import {
  type Account,
  type Grant,
  type RefreshAnswer,
  type TokenCheck,
  type Upstream,
  UpstreamError,
} from '../upstream.js';

export interface OAuthSettings {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userinfoEndpoint?: string;
  introspectionEndpoint?: string;
  clientId: string;
  clientSecret: string;
  clientAuth: 'client_secret_basic' | 'client_secret_post';
  /** Space-separated, as sent (`openid offline_access`); empty: none sent. */
  scopes: string;
  tokenCheck: 'userinfo' | 'introspection' | 'none';
  /** Whether the provider issues refresh tokens, and so whether refreshes are forwarded. */
  refresh: boolean;
  providerName: string;
  clientName: string;
  loginCommand?: string;
  /** How long to wait for the token endpoint (`UPSTREAM_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Told of every exchange (metrics). */
  onRequest?: (status: string, seconds: number) => void;
}

/** The longest account id or name kept from the provider's claims. */
const ACCOUNT_TEXT_MAX = 200;

/**
 * The token answer's fields the device receives (RFC 6749 §5.1). Not the provider's ID token:
 * it is addressed to this server's client (`aud` is OAUTH_CLIENT_ID, `iss` the provider), and a
 * client that finds an `id_token` in a token answer checks both against the server it asked
 * (OpenID Connect Core §3.1.3.7): `openid-client` refuses the whole answer, so forwarding it
 * would fail every such device's login and refresh. It is read here to name the account.
 */
const TOKEN_FIELDS = ['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope'] as const;
/** An error answer's fields (RFC 6749 §5.2). */
const ERROR_FIELDS = ['error', 'error_description', 'error_uri'] as const;

/** `fields`, keeping only `names` (and only values of JSON's plain kinds). */
function only(fields: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const name of names) {
    const value = fields[name];
    if (typeof value === 'string' || typeof value === 'number') kept[name] = value;
  }
  return kept;
}

/** The claims of an ID token received from the token endpoint (not its signature: see `accountOf`). */
function idTokenClaims(idToken: unknown): Record<string, unknown> | undefined {
  if (typeof idToken !== 'string') return undefined;
  const payload = idToken.split('.')[1];
  if (!payload) return undefined;
  try {
    return jsonObject(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Who the token is for, from OpenID Connect claims: `sub`, and a name people recognise. The ID
 * token came straight from the token endpoint, over the connection this server opened, so its
 * issuer is the one that answered (OpenID Connect Core §3.1.3.7, item 6): its claims are read
 * without checking its signature, and only to name the account on pages and in the record.
 */
function accountOf(claims: Record<string, unknown> | undefined): Account {
  if (!claims) return {};
  const id = printable(claims.sub, ACCOUNT_TEXT_MAX);
  const name =
    printable(claims.name, ACCOUNT_TEXT_MAX) ??
    printable(claims.email, ACCOUNT_TEXT_MAX) ??
    printable(claims.preferred_username, ACCOUNT_TEXT_MAX);
  return { ...(id ? { id } : {}), ...(name ? { name } : {}) };
}

/** A generic OAuth 2.0 / OpenID Connect provider over `fetch`. */
export function createOAuthUpstream(settings: OAuthSettings): Upstream {
  const where = `the token endpoint (${settings.tokenEndpoint})`;
  const scopes = settings.scopes.split(/\s+/).filter(Boolean);

  /** The client's credentials, as `clientAuth` sends them, on a form body. */
  const authenticated = (form: URLSearchParams): RequestInit => {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (settings.clientAuth === 'client_secret_basic') {
      // RFC 6749 §2.3.1: each part form-encoded, then Basic.
      const encode = (value: string) => encodeURIComponent(value).replaceAll('%20', '+');
      const basic = Buffer.from(`${encode(settings.clientId)}:${encode(settings.clientSecret)}`).toString(
        'base64',
      );
      headers.authorization = `Basic ${basic}`;
    } else {
      form.set('client_id', settings.clientId);
      form.set('client_secret', settings.clientSecret);
    }
    return { method: 'POST', headers, body: form.toString() };
  };

  const checkUserinfo = async (accessToken: string, timeoutMs: number): Promise<TokenCheck> => {
    const answer = await call(
      settings.userinfoEndpoint!,
      { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } },
      {
        timeoutMs,
        where: `the userinfo endpoint (${settings.userinfoEndpoint})`,
        timeoutSetting: 'TOKEN_CHECK_TIMEOUT_MS',
      },
    );
    if (answer.status >= 200 && answer.status < 300) {
      const account = accountOf(jsonObject(answer.text));
      return { result: 'working', account };
    }
    // RFC 6750 §3.1: insufficient_scope says the token is valid but not for this resource
    // (userinfo wants openid), which says nothing against it.
    if (
      answer.status === 403 &&
      /error="?insufficient_scope/.test(answer.headers.get('www-authenticate') ?? '')
    )
      return { result: 'unchecked', detail: 'HTTP 403 insufficient_scope' };
    if (answer.status === 401 || answer.status === 403)
      return { result: 'refused', reason: 'token_refused', status: answer.status };
    return { result: 'unchecked', detail: `HTTP ${answer.status}` };
  };

  const checkIntrospection = async (accessToken: string, timeoutMs: number): Promise<TokenCheck> => {
    const answer = await call(
      settings.introspectionEndpoint!,
      authenticated(new URLSearchParams({ token: accessToken, token_type_hint: 'access_token' })),
      {
        timeoutMs,
        where: `the introspection endpoint (${settings.introspectionEndpoint})`,
        timeoutSetting: 'TOKEN_CHECK_TIMEOUT_MS',
      },
    );
    const body = jsonObject(answer.text);
    if (answer.status !== 200 || !body) return { result: 'unchecked', detail: `HTTP ${answer.status}` };
    if (body.active !== true) return { result: 'refused', reason: 'inactive', status: answer.status };
    return { result: 'working', account: accountOf({ ...body, name: body.username }) };
  };

  const refresh: Upstream['refresh'] = async ({ refreshToken, scope }) => {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    if (scope) form.set('scope', scope);
    const answer = await call(settings.tokenEndpoint, authenticated(form), {
      timeoutMs: settings.timeoutMs,
      where,
      timeoutSetting: 'UPSTREAM_TIMEOUT_MS',
      onRequest: settings.onRequest,
    });
    return refreshAnswer(answer.status, answer.text);
  };

  const upstream: Upstream = {
    id: 'oauth',
    names: {
      provider: settings.providerName,
      client: settings.clientName,
      ...(settings.loginCommand ? { command: settings.loginCommand } : {}),
    },
    authorizeOrigin: new URL(settings.authorizationEndpoint).origin,
    codeLifetimeMs: 10 * 60 * 1000,
    probeUrl: settings.tokenEndpoint,
    credentialSettings: ['OAUTH_CLIENT_ID', 'OAUTH_CLIENT_SECRET'],

    authorizeUrl({ state, codeChallenge, redirectUri }) {
      return authorizationUrl(settings.authorizationEndpoint, {
        clientId: settings.clientId,
        redirectUri,
        state,
        codeChallenge,
        scope: scopes.join(' '),
        // OpenID Connect Core §11: offline access is asked for with prompt=consent.
        ...(scopes.includes('offline_access') ? { prompt: 'consent' } : {}),
      });
    },

    async exchangeCode({ code, codeVerifier, redirectUri }) {
      const answer = await call(
        settings.tokenEndpoint,
        authenticated(
          new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: redirectUri,
            code_verifier: codeVerifier,
          }),
        ),
        {
          timeoutMs: settings.timeoutMs,
          where,
          timeoutSetting: 'UPSTREAM_TIMEOUT_MS',
          onRequest: settings.onRequest,
        },
      );
      return interpretTokenAnswer(answer.status, answer.text, Date.now());
    },

    async checkToken(grant, timeoutMs) {
      if (timeoutMs <= 0 || settings.tokenCheck === 'none')
        return { result: 'unchecked', detail: 'not asked' };
      try {
        return settings.tokenCheck === 'userinfo'
          ? await checkUserinfo(grant.accessToken, timeoutMs)
          : await checkIntrospection(grant.accessToken, timeoutMs);
      } catch (err) {
        return { result: 'unchecked', detail: err instanceof UpstreamError ? err.detail : networkCause(err) };
      }
    },

    // The provider's answer, as it gave it, but for `expires_in`: what is left of it when the
    // device collects the token, not when the provider issued it.
    tokenAnswer(sealed, now) {
      const answer = only(sealed, TOKEN_FIELDS);
      // Without refreshes forwarded, a refresh token is of no use to the device (the provider
      // wants the client secret with it), and /openapi.json promises none.
      if (!settings.refresh) delete answer.refresh_token;
      if (typeof sealed.expires_in === 'number' && typeof sealed.obtained_at === 'number') {
        answer.expires_in = Math.max(0, Math.floor(sealed.expires_in - (now - sealed.obtained_at) / 1000));
      }
      return answer;
    },

    tokenAnswerSchema: {
      required: ['access_token', 'token_type'],
      properties: {
        access_token: { type: 'string' },
        token_type: { type: 'string' },
        expires_in: {
          type: 'integer',
          description: "Seconds left of the token's life when it was collected.",
        },
        ...(settings.refresh
          ? {
              refresh_token: {
                type: 'string',
                description: 'Renewed through this endpoint (`grant_type=refresh_token`).',
              },
            }
          : {}),
        scope: { type: 'string' },
      },
    },

    refusal: (reason) => ({
      error: 'access_denied',
      description: `${settings.providerName} refuses the new token (${reason}): log in again, or ask whoever runs ${settings.providerName}.`,
    }),

    // RFC 6749 §A.11: a code is any visible ASCII; one that is not is refused before this.
    isCodeShaped: (code) => /^[\x21-\x7e]{8,512}$/.test(code),

    junkCode: () => randomBytes(32).toString('base64url'),

    // Absent when the provider's metadata says it issues no refresh tokens.
    ...(settings.refresh ? { refresh } : {}),
  };
  return upstream;
}

/** Errors by which the provider refuses this server, not the device's refresh token (RFC 6749 §5.2). */
const CLIENT_ERRORS = new Set(['invalid_client', 'unauthorized_client']);

/**
 * The provider's answer to a refresh, passed on: a success's token fields, an error's RFC 6749
 * §5.2 fields with its status (400 or 401), never any other field of the provider's body.
 * Throws `UpstreamError`: `misconfigured` when the provider refuses this server's credentials
 * (`invalid_client`, `unauthorized_client`: nothing the device can fix, and an operator must
 * know), `unavailable` for anything else (a 5xx, an unreadable body).
 */
export function refreshAnswer(status: number, text: string): RefreshAnswer {
  const body = jsonObject(text);
  const errorCode = errorCodeOf(body);
  if (status === 200 && body && typeof body.access_token === 'string')
    return { status: 200, body: only(body, TOKEN_FIELDS) };
  if (errorCode && CLIENT_ERRORS.has(errorCode))
    throw new UpstreamError('misconfigured', `HTTP ${status} ${errorCode} at a refresh`, status);
  if ((status === 400 || status === 401) && body && typeof body.error === 'string')
    return { status, body: only(body, ERROR_FIELDS) };
  throw new UpstreamError(
    'unavailable',
    `HTTP ${status}${errorCode ? ` ${errorCode}` : ''} at a refresh`,
    status,
  );
}

/** Turn the token endpoint's answer into a grant (sealed with when it was obtained) or an `UpstreamError`. */
export function interpretTokenAnswer(status: number, text: string, now: number): Grant {
  const fields = jsonObject(text);
  const errorCode = errorCodeOf(fields);
  const summary = `HTTP ${status}${errorCode ? ` ${errorCode}` : ''}`;
  if (status === 200 || status === 201) {
    const success = successAnswer(fields, status, 16_384);
    return {
      accessToken: success.accessToken,
      sealed: { ...only(success.fields, TOKEN_FIELDS), obtained_at: now },
      account: accountOf(idTokenClaims(success.fields.id_token)),
    };
  }
  if (status >= 500 || status === 429 || status === 408)
    throw new UpstreamError('unavailable', summary, status);
  if (errorCode === 'invalid_grant') throw new UpstreamError('rejected', summary, status);
  if (errorCode === 'invalid_client' || errorCode === 'unauthorized_client' || status === 401) {
    throw new UpstreamError(
      'misconfigured',
      `${errorCode ?? 'HTTP 401'}: check OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET and OAUTH_CLIENT_AUTH, and that the client is registered with the redirect URI {SERVER_URL}/device/callback`,
      status,
    );
  }
  throw new UpstreamError('misconfigured', summary, status);
}
