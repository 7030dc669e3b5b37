/**
 * OAuth `state` and PKCE (RFC 7636) for the trip to Postiz. The verifier is derived from the
 * state, which comes back with the callback, so neither has to be stored: the database keeps
 * only the state's hash (docs/security.md).
 */
import { createHash } from 'node:crypto';
import { newToken } from './codes.js';
import { hkdf32 } from './hkdf.js';

const VERIFIER_INFO = 'postiz-cli-auth/v1/pkce-verifier';

/** A fresh, opaque `state` (256 bits), unrelated to the device code. */
export function newState(): string {
  return newToken(32);
}

/** RFC 7636 §4.1 verifier for a state: 43 base64url characters. */
export function codeVerifier(state: string): string {
  return hkdf32(state, VERIFIER_INFO).toString('base64url');
}

/** RFC 7636 §4.2 S256 challenge of a verifier. */
export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
