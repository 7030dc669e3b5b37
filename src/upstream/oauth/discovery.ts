/**
 * A provider's endpoints, read from its metadata at start-up: OpenID Connect discovery
 * (`{issuer}/.well-known/openid-configuration`), else RFC 8414
 * (`{origin}/.well-known/oauth-authorization-server{path}`). The metadata's `issuer` must be the
 * one configured (RFC 8414 §3.3, OpenID Connect Discovery §4.3), so that a document served by
 * someone else cannot send logins elsewhere.
 */
import { jsonObject } from '../http.js';
import { networkCause } from '../network-error.js';

/** What the server uses of a provider's metadata. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  userinfo_endpoint?: string;
  introspection_endpoint?: string;
  token_endpoint_auth_methods_supported?: string[];
}

/** A provider's metadata could not be read: the message names the issuer and the cause. */
export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
}

/** The metadata URLs of `issuer`, in the order they are asked. */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  return [
    `${url.origin}${path}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

/** Read `issuer`'s metadata within `timeoutMs` per request; throws `DiscoveryError`. */
export async function discover(issuer: string, timeoutMs: number): Promise<ProviderMetadata> {
  const tried: string[] = [];
  for (const url of metadataUrls(issuer)) {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      throw new DiscoveryError(
        `OAUTH_ISSUER (${issuer}): its metadata at ${url} cannot be read: ${networkCause(err)}`,
      );
    }
    const text = await response.text();
    if (!response.ok) {
      tried.push(`${url} answered ${response.status}`);
      continue;
    }
    const body = jsonObject(text);
    if (!body) throw new DiscoveryError(`OAUTH_ISSUER (${issuer}): ${url} is not a JSON object`);
    if (body.issuer !== issuer && body.issuer !== `${issuer}/`) {
      throw new DiscoveryError(
        `OAUTH_ISSUER (${issuer}): the metadata at ${url} names another issuer (${String(body.issuer).slice(0, 200)}): set OAUTH_ISSUER to the provider's issuer exactly`,
      );
    }
    const strings = (value: unknown): string[] | undefined =>
      Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
    const text_ = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
    return {
      issuer,
      authorization_endpoint: text_(body.authorization_endpoint),
      token_endpoint: text_(body.token_endpoint),
      userinfo_endpoint: text_(body.userinfo_endpoint),
      introspection_endpoint: text_(body.introspection_endpoint),
      token_endpoint_auth_methods_supported: strings(body.token_endpoint_auth_methods_supported),
    };
  }
  throw new DiscoveryError(`OAUTH_ISSUER (${issuer}): no metadata found (${tried.join('; ')})`);
}
