/**
 * The Postiz profile (the default): Postiz's OAuth apps, as docs/postiz.md describes them. The
 * browser authorizes at `{POSTIZ_FRONTEND_URL}/oauth/authorize`; codes are exchanged at
 * `{POSTIZ_API_URL}/oauth/token` (JSON, the client secret in the body; 201 on success, with the
 * organisation's id); a new token is checked at the public API's `/public/v1/integrations`, which
 * also lists the organisation's channels; the device's token answer carries `api_url`. Postiz's
 * own error text is kept for the log only, never shown to a user.
 */
import { randomInt } from 'node:crypto';
import { authorizationUrl } from '../authorize-url.js';
import { call, errorCodeOf, jsonObject, printable, successAnswer } from '../http.js';
import { networkCause } from '../network-error.js';
import {
  type Account,
  type Channel,
  type Grant,
  type TokenCheck,
  type Upstream,
  UpstreamError,
} from '../upstream.js';

export interface PostizSettings {
  frontendUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** How long to wait for the token endpoint (`UPSTREAM_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Told of every exchange (metrics): its HTTP status, or `error`/`timeout`. */
  onRequest?: (status: string, seconds: number) => void;
}

/** The most channels a token check keeps (it says how many there were in all). */
export const CHANNELS_KEPT = 10;

/**
 * Postiz codes are 32 letters and digits. Some slack either way, so that a change of length at
 * Postiz does not silently stop the burning, but nothing that could carry markup or paths.
 */
const POSTIZ_CODE = /^[A-Za-z0-9]{16,128}$/;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** What Postiz's public auth middleware says when billing is on and the organisation has no subscription. */
const NO_SUBSCRIPTION = /no subscription/i;

/** What the pages call Postiz, its CLI, and the command that starts a login. */
export const POSTIZ_NAMES = {
  provider: 'Postiz',
  client: 'Postiz CLI',
  command: 'postiz auth:login',
} as const;

/** The Postiz profile over `fetch`. */
export function createPostizUpstream(settings: PostizSettings): Upstream {
  const tokenEndpoint = `${settings.apiUrl}/oauth/token`;
  const checkEndpoint = `${settings.apiUrl}/public/v1/integrations`;
  const where = `POSTIZ_API_URL (${settings.apiUrl})`;

  return {
    id: 'postiz',
    names: POSTIZ_NAMES,
    authorizeOrigin: new URL(settings.frontendUrl).origin,
    codeLifetimeMs: 10 * 60 * 1000,
    probeUrl: `${settings.apiUrl}/public/v1/is-connected`,
    credentialSettings: ['POSTIZ_OAUTH_CLIENT_ID', 'POSTIZ_OAUTH_CLIENT_SECRET'],

    authorizeUrl({ state, codeChallenge, redirectUri }) {
      // redirect_uri: ignored by Postiz for pca_ apps, required for pcd_ apps (docs/postiz.md).
      return authorizationUrl(`${settings.frontendUrl}/oauth/authorize`, {
        clientId: settings.clientId,
        redirectUri,
        state,
        codeChallenge,
      });
    },

    async exchangeCode({ code, codeVerifier, redirectUri }) {
      const answer = await call(
        tokenEndpoint,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({
            grant_type: 'authorization_code',
            code,
            client_id: settings.clientId,
            client_secret: settings.clientSecret,
            code_verifier: codeVerifier,
            redirect_uri: redirectUri,
          }),
        },
        {
          timeoutMs: settings.timeoutMs,
          where,
          timeoutSetting: 'UPSTREAM_TIMEOUT_MS',
          onRequest: settings.onRequest,
        },
      );
      return interpret(answer.status, answer.text);
    },

    async checkToken(grant, timeoutMs) {
      if (timeoutMs <= 0) return { result: 'unchecked', detail: 'not asked' };
      try {
        const answer = await call(
          checkEndpoint,
          // Raw, without "Bearer ": with the prefix Postiz answers 401 (docs/postiz.md).
          { headers: { authorization: grant.accessToken, accept: 'application/json' } },
          { timeoutMs, where, timeoutSetting: 'TOKEN_CHECK_TIMEOUT_MS' },
        );
        return readCheck(answer.status, answer.text);
      } catch (err) {
        const detail = err instanceof UpstreamError ? err.detail : networkCause(err);
        return { result: 'unchecked', detail };
      }
    },

    // Postiz's answer to the CLI, field for field as the CLI reads it (docs/postiz.md):
    // organization_id is left out when Postiz gave none (JSON.stringify drops undefined).
    tokenAnswer: (sealed) => ({
      access_token: sealed.access_token,
      token_type: 'bearer',
      api_url: settings.apiUrl,
      organization_id: sealed.organization_id,
    }),

    tokenAnswerSchema: {
      required: ['access_token', 'token_type', 'api_url'],
      properties: {
        access_token: { type: 'string' },
        token_type: { type: 'string', description: '`bearer`' },
        api_url: { type: 'string', description: "Postiz's API, where the token is used (`POSTIZ_API_URL`)." },
        organization_id: {
          type: 'string',
          description: 'The organisation the token opens, when Postiz gave it.',
        },
      },
    },

    refusal: (reason) =>
      reason === 'no_subscription'
        ? {
            error: 'postiz_subscription_required',
            description:
              'Postiz refuses the API of this organisation: it has no subscription. Subscribe (or select another organisation) in Postiz, then log in again.',
          }
        : {
            error: 'postiz_refused_token',
            description:
              'Postiz refuses the new credentials. Check the organisation selected in Postiz, then log in again.',
          },

    isCodeShaped: (code) => POSTIZ_CODE.test(code),

    junkCode() {
      let code = '';
      for (let i = 0; i < 32; i++) code += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
      return code;
    },
  };
}

/** Turn the public API's answer to a token check into a `TokenCheck` (never echoing a body). */
export function readCheck(status: number, text: string): TokenCheck {
  if (status >= 200 && status < 300) {
    const account = readChannels(text);
    return account ? { result: 'working', account } : { result: 'working' };
  }
  if (status === 401 || status === 403) {
    const body = jsonObject(text);
    const message = String(body?.msg ?? body?.message ?? '');
    return {
      result: 'refused',
      reason: NO_SUBSCRIPTION.test(message) ? 'no_subscription' : 'token_refused',
      status,
    };
  }
  return { result: 'unchecked', detail: `HTTP ${status}` };
}

/**
 * The channels in a list of integrations (`[{name, identifier, disabled, …}]`), the first
 * `CHANNELS_KEPT` of them and how many in all; nothing when the body is not such a list.
 */
function readChannels(text: string): Account | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(body)) return undefined;
  const channels: Channel[] = [];
  for (const item of body) {
    if (typeof item !== 'object' || item === null) continue;
    const fields = item as Record<string, unknown>;
    const name = printable(fields.name, 100);
    if (!name) continue;
    channels.push({
      name,
      platform: printable(fields.identifier ?? fields.providerIdentifier, 40) ?? '',
      disabled: fields.disabled === true,
    });
  }
  return { channels: channels.slice(0, CHANNELS_KEPT), channelCount: channels.length };
}

/** Turn Postiz's answer into a grant or an `UpstreamError`. 200 and 201 both mean success. */
export function interpret(status: number, text: string): Grant {
  const fields = jsonObject(text);
  // Only Postiz's error code reaches the log: an error body may echo our request (code, secret).
  const errorCode = errorCodeOf(fields);
  const summary = `HTTP ${status}${errorCode ? ` ${errorCode}` : ''}`;

  if (status === 200 || status === 201) {
    const { accessToken: token, fields: answer } = successAnswer(fields, status, 4096);
    const id = answer.id;
    const organizationId =
      typeof id === 'string' && id.length > 0 ? id : typeof id === 'number' ? String(id) : undefined;
    return {
      accessToken: token,
      sealed: { access_token: token, organization_id: organizationId },
      account: organizationId !== undefined ? { id: organizationId } : {},
    };
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
