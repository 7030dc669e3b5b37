/**
 * The authorization request a browser is sent with (RFC 6749 §4.1.1, with PKCE's S256 challenge,
 * RFC 7636 §4.3), written once for every profile. Its parameters come in one fixed order, so
 * the Postiz profile's URL stays byte for byte what it was.
 */

/** What a profile puts in its authorization request. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  /** `scope`, when the profile asks for any. */
  scope?: string;
  /** `prompt` (OpenID Connect Core §3.1.2.1), when the profile needs one. */
  prompt?: string;
}

/** `endpoint` with the authorization request's query parameters set. */
export function authorizationUrl(endpoint: string, request: AuthorizationRequest): string {
  const url = new URL(endpoint);
  url.searchParams.set('client_id', request.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', request.redirectUri);
  if (request.scope) url.searchParams.set('scope', request.scope);
  if (request.prompt) url.searchParams.set('prompt', request.prompt);
  url.searchParams.set('state', request.state);
  url.searchParams.set('code_challenge', request.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.href;
}
