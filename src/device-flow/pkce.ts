/**
 * OAuth `state` and PKCE (RFC 7636) for the trip to the provider. The verifier is derived from the
 * browser-binding cookie's value together with the state, so neither has to be stored (the
 * database keeps only their hashes) and nothing that appears in a URL is enough to compute
 * it: a leaked callback URL (code + state) does not give the verifier that a `pcd_` app's
 * code is bound to (docs/security.md, on leaked codes).
 */
import { createHash } from 'node:crypto';
import { newToken } from './codes.js';
import { hkdf32 } from './hkdf.js';

const VERIFIER_INFO = 'postiz-cli-auth/v2/pkce-verifier';

/** A fresh, opaque `state` (256 bits), unrelated to the device code. */
export function newState(): string {
  return newToken(32);
}

/**
 * RFC 7636 §4.1 verifier for one confirmation: 43 base64url characters, HKDF-SHA256 of the
 * binding cookie's value (the secret key material) salted with the state.
 */
export function codeVerifier(binding: string, state: string): string {
  return hkdf32(binding, VERIFIER_INFO, Buffer.from(state)).toString('base64url');
}

/** RFC 7636 §4.2 S256 challenge of a verifier. */
export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
