/**
 * The provider a deployment bridges to, built from its settings (`UPSTREAM`): Postiz by
 * default (`postiz/profile.ts`), or any OAuth 2.0 / OpenID Connect authorization server
 * (`oauth/profile.ts`, its endpoints read from the issuer's metadata at start-up:
 * `oauth/discovery.ts`). docs/providers.md says what a provider must offer.
 */
import type { Config } from '../config.js';
import { discover, type ProviderMetadata } from './oauth/discovery.js';
import { createOAuthUpstream } from './oauth/profile.js';
import { createPostizUpstream } from './postiz/profile.js';
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
  const authorizationEndpoint = config.oauthAuthorizationEndpoint ?? found?.authorization_endpoint;
  const tokenEndpoint = config.oauthTokenEndpoint ?? found?.token_endpoint;
  if (!authorizationEndpoint || !tokenEndpoint) {
    throw new Error(
      `OAUTH_ISSUER (${config.oauthIssuer}): its metadata names no ${authorizationEndpoint ? 'token_endpoint' : 'authorization_endpoint'}: set OAUTH_AUTHORIZATION_ENDPOINT and OAUTH_TOKEN_ENDPOINT`,
    );
  }
  const userinfoEndpoint = config.oauthUserinfoEndpoint ?? found?.userinfo_endpoint;
  const introspectionEndpoint = config.oauthIntrospectionEndpoint ?? found?.introspection_endpoint;
  const methods = found?.token_endpoint_auth_methods_supported ?? [];
  const tokenCheck = config.oauthTokenCheck ?? (userinfoEndpoint ? 'userinfo' : 'none');
  if (tokenCheck === 'userinfo' && !userinfoEndpoint)
    throw new Error(
      'OAUTH_TOKEN_CHECK=userinfo, but the provider has no userinfo endpoint: set OAUTH_USERINFO_ENDPOINT',
    );
  if (tokenCheck === 'introspection' && !introspectionEndpoint)
    throw new Error(
      'OAUTH_TOKEN_CHECK=introspection, but the provider has no introspection endpoint: set OAUTH_INTROSPECTION_ENDPOINT',
    );
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
    scopes: config.oauthScopes ?? '',
    tokenCheck,
    providerName: config.oauthProviderName ?? new URL(authorizationEndpoint).host,
    clientName: config.oauthClientName,
    ...(config.oauthLoginCommand ? { loginCommand: config.oauthLoginCommand } : {}),
    timeoutMs: config.upstreamTimeoutMs,
    onRequest,
  });
}

/** How logs name where the provider is, for `config` (the setting and its value). */
export function upstreamWhere(config: Config): string {
  if (config.upstream === 'postiz') return `POSTIZ_API_URL (${config.postizApiUrl})`;
  return config.oauthIssuer
    ? `OAUTH_ISSUER (${config.oauthIssuer})`
    : `OAUTH_TOKEN_ENDPOINT (${config.oauthTokenEndpoint})`;
}

/** The client secret of the configured provider (what the audit trail's keys derive from). */
export function clientSecretOf(
  config: Pick<Config, 'upstream' | 'clientSecret' | 'oauthClientSecret'>,
): string {
  return config.upstream === 'postiz' ? config.clientSecret : config.oauthClientSecret!;
}
