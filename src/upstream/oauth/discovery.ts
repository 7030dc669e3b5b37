/**
 * A provider's endpoints, read from its metadata at start-up: OpenID Connect discovery
 * (`{issuer}/.well-known/openid-configuration`), else RFC 8414
 * (`{origin}/.well-known/oauth-authorization-server{path}`). The metadata's `issuer` must be the
 * one configured (RFC 8414 §3.3, OpenID Connect Discovery §4.3), so that a document served by
 * someone else cannot send logins elsewhere.
 */
import { endpointProblem } from '../../config.js';
import { AnswerTooLargeError, jsonObject, readBody } from '../http.js';
import { networkCause } from '../network-error.js';

/** What the server uses of a provider's metadata. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  userinfo_endpoint?: string;
  introspection_endpoint?: string;
  token_endpoint_auth_methods_supported?: string[];
  grant_types_supported?: string[];
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
    let text: string;
    try {
      response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      // Within the same timeout and the same message: a body that stalls or runs on is unreadable too.
      text = await readBody(response);
    } catch (err) {
      const cause =
        err instanceof AnswerTooLargeError
          ? err.message
          : (err as Error).name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms (UPSTREAM_TIMEOUT_MS)`
            : networkCause(err);
      throw new DiscoveryError(`OAUTH_ISSUER (${issuer}): its metadata at ${url} cannot be read: ${cause}`);
    }
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
      grant_types_supported: strings(body.grant_types_supported),
    };
  }
  throw new DiscoveryError(`OAUTH_ISSUER (${issuer}): no metadata found (${tried.join('; ')})`);
}

/** The endpoints the metadata may name, and the setting that stands in for each. */
const ENDPOINT_SETTINGS = {
  authorization_endpoint: 'OAUTH_AUTHORIZATION_ENDPOINT',
  token_endpoint: 'OAUTH_TOKEN_ENDPOINT',
  userinfo_endpoint: 'OAUTH_USERINFO_ENDPOINT',
  introspection_endpoint: 'OAUTH_INTROSPECTION_ENDPOINT',
} as const;

/**
 * The metadata's `field`, held to the rule its setting is (`endpointProblem`), or undefined when
 * the metadata names none; throws `DiscoveryError`, naming the setting that can stand in.
 */
export function metadataEndpoint(
  metadata: ProviderMetadata,
  field: keyof typeof ENDPOINT_SETTINGS,
): string | undefined {
  const value = metadata[field];
  if (value === undefined) return undefined;
  const problem = endpointProblem(value);
  if (problem) {
    throw new DiscoveryError(
      `OAUTH_ISSUER (${metadata.issuer}): its metadata's ${field} ${JSON.stringify(value.slice(0, 200))} ${problem}: fix the provider's metadata, or set ${ENDPOINT_SETTINGS[field]}`,
    );
  }
  return value;
}
