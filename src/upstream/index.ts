/**
 * The provider a deployment bridges to, built from its settings (`UPSTREAM`): Postiz by
 * default (`postiz/profile.ts`), or any OAuth 2.0 / OpenID Connect authorization server
 * (`oauth/profile.ts`, its endpoints read from the issuer's metadata at start-up:
 * `oauth/discovery.ts`). docs/providers.md says what a provider must offer.
 */
import { type Config, ConfigError } from '../config.js';
import { discover, metadataEndpoint, type ProviderMetadata } from './oauth/discovery.js';
import { createOAuthUpstream } from './oauth/profile.js';
import { createPostizUpstream, POSTIZ_NAMES } from './postiz/profile.js';
import type { Upstream } from './upstream.js';

export type { Upstream } from './upstream.js';

/** What a profile's requests report (metrics): each exchange's status, or `error`/`timeout`, and how long it took. */
export type OnRequest = (status: string, seconds: number) => void;

/** Each issuer's metadata, read once per process (the app builds its provider twice: with and without metrics). */
const metadata = new Map<string, Promise<ProviderMetadata>>();

/** The configured provider; `onRequest` observes its token exchanges. Reads the issuer's metadata (throws `DiscoveryError`). */
export async function createUpstream(config: Config, onRequest?: OnRequest): Promise<Upstream> {
  if (config.upstream === 'postiz') {
    return createPostizUpstream({
      frontendUrl: config.postizFrontendUrl,
      apiUrl: config.postizApiUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      timeoutMs: config.upstreamTimeoutMs,
      onRequest,
    });
  }
  let found: ProviderMetadata | undefined;
  if (config.oauthIssuer) {
    const issuer = config.oauthIssuer;
    let reading = metadata.get(issuer);
    if (!reading) {
      reading = discover(issuer, config.upstreamTimeoutMs);
      metadata.set(issuer, reading);
      reading.catch(() => metadata.delete(issuer));
    }
    found = await reading;
  }
  // A setting overrides the metadata; an endpoint read from it is checked where it is used.
  const fromMetadata = (field: Parameters<typeof metadataEndpoint>[1]) =>
    found ? metadataEndpoint(found, field) : undefined;
  const authorizationEndpoint = config.oauthAuthorizationEndpoint ?? fromMetadata('authorization_endpoint');
  const tokenEndpoint = config.oauthTokenEndpoint ?? fromMetadata('token_endpoint');
  if (!authorizationEndpoint || !tokenEndpoint) {
    throw new Error(
      `OAUTH_ISSUER (${config.oauthIssuer}): its metadata names no ${authorizationEndpoint ? 'token_endpoint' : 'authorization_endpoint'}: set OAUTH_AUTHORIZATION_ENDPOINT and OAUTH_TOKEN_ENDPOINT`,
    );
  }
  const scopes = config.oauthScopes ?? '';
  const tokenCheck = config.oauthTokenCheck ?? defaultTokenCheck(config, found);
  const userinfoEndpoint =
    tokenCheck === 'userinfo'
      ? (config.oauthUserinfoEndpoint ?? fromMetadata('userinfo_endpoint'))
      : undefined;
  const introspectionEndpoint =
    tokenCheck === 'introspection'
      ? (config.oauthIntrospectionEndpoint ?? fromMetadata('introspection_endpoint'))
      : undefined;
  if (tokenCheck === 'userinfo' && !userinfoEndpoint)
    throw new Error(
      'OAUTH_TOKEN_CHECK=userinfo, but the provider has no userinfo endpoint: set OAUTH_USERINFO_ENDPOINT',
    );
  if (tokenCheck === 'introspection' && !introspectionEndpoint)
    throw new Error(
      'OAUTH_TOKEN_CHECK=introspection, but the provider has no introspection endpoint: set OAUTH_INTROSPECTION_ENDPOINT',
    );
  const methods = found?.token_endpoint_auth_methods_supported ?? [];
  const identity = upstreamIdentity(config);
  return createOAuthUpstream({
    authorizationEndpoint,
    tokenEndpoint,
    ...(userinfoEndpoint ? { userinfoEndpoint } : {}),
    ...(introspectionEndpoint ? { introspectionEndpoint } : {}),
    clientId: config.oauthClientId!,
    clientSecret: config.oauthClientSecret!,
    clientAuth:
      config.oauthClientAuth ??
      (methods.includes('client_secret_basic') || !methods.includes('client_secret_post')
        ? 'client_secret_basic'
        : 'client_secret_post'),
    scopes,
    tokenCheck,
    // RFC 8414 §2: a provider that lists its grants and leaves out refresh_token issues none.
    // One that lists none (most OpenID Connect providers omit the field), or has no metadata,
    // is taken to issue them when asked: a device only ever holds a refresh token it was given.
    refresh: found?.grant_types_supported?.includes('refresh_token') ?? true,
    providerName: identity.names.provider,
    clientName: identity.names.client,
    ...(identity.names.command ? { loginCommand: identity.names.command } : {}),
    timeoutMs: config.upstreamTimeoutMs,
    onRequest,
  });
}

/**
 * How a new token is checked when OAUTH_TOKEN_CHECK is unset: at the userinfo endpoint when the
 * scopes include `openid` and the provider has one (OpenID Connect Core §5.3 asks for an access
 * token with `openid`; without it, providers answer 403 `insufficient_scope` for a working
 * token), else not at all.
 */
function defaultTokenCheck(config: Config, found: ProviderMetadata | undefined): 'userinfo' | 'none' {
  const openid = (config.oauthScopes ?? '').split(/\s+/).includes('openid');
  return openid && (config.oauthUserinfoEndpoint ?? found?.userinfo_endpoint) ? 'userinfo' : 'none';
}

/**
 * The profile and its names as far as the settings alone say, without reading the provider's
 * metadata: what the pages show, and what commands that never talk to the provider (`logins`)
 * show too. An unnamed generic provider is named by the host of OAUTH_AUTHORIZATION_ENDPOINT,
 * else of OAUTH_ISSUER (the same with or without the metadata at hand).
 */
export function upstreamIdentity(config: Config): Pick<Upstream, 'id' | 'names'> {
  if (config.upstream === 'postiz') return { id: 'postiz', names: POSTIZ_NAMES };
  const where = config.oauthAuthorizationEndpoint ?? config.oauthIssuer;
  return {
    id: 'oauth',
    names: {
      provider: config.oauthProviderName ?? (where ? new URL(where).host : 'the provider'),
      client: config.oauthClientName,
      ...(config.oauthLoginCommand ? { command: config.oauthLoginCommand } : {}),
    },
  };
}

/** How logs name where the provider is, for `config` (the setting and its value). */
export function upstreamWhere(config: Config): string {
  if (config.upstream === 'postiz') return `POSTIZ_API_URL (${config.postizApiUrl})`;
  return config.oauthIssuer
    ? `OAUTH_ISSUER (${config.oauthIssuer})`
    : `OAUTH_TOKEN_ENDPOINT (${config.oauthTokenEndpoint})`;
}

/**
 * The client secret of the configured provider (what the audit trail's keys derive from):
 * POSTIZ_OAUTH_CLIENT_SECRET, or OAUTH_CLIENT_SECRET with `UPSTREAM=oauth`. Throws `ConfigError`
 * naming the setting when it is not set (commands that load the config without requiring it).
 */
export function clientSecretOf(
  config: Pick<Config, 'upstream' | 'clientSecret' | 'oauthClientSecret'>,
): string {
  const [secret, setting] =
    config.upstream === 'oauth'
      ? [config.oauthClientSecret, 'OAUTH_CLIENT_SECRET']
      : [config.clientSecret, 'POSTIZ_OAUTH_CLIENT_SECRET'];
  if (!secret) {
    throw new ConfigError(
      `${setting} is required (the audit trail keeps organisations keyed and sealed with keys derived from it)`,
    );
  }
  return secret;
}
