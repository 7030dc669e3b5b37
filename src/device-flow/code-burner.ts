/**
 * Burning leaked codes, as defence in depth. What makes a leaked code worthless is that this
 * server records every code that reaches the callback and never exchanges one first seen at a
 * refused callback (`Store.sightCodes`, docs/security.md): only this server holds the client
 * secret. A code first seen at a refused callback is also redeemed at the provider and its
 * token thrown away, so it is dead there too, should the record ever be lost.
 *
 * Burning must not turn junk callbacks into load on the provider's token endpoint (which would
 * get this app rate-limited there): only codes shaped like the provider's are redeemed, only at
 * their first sighting, at most one per request, within a budget per client address and a
 * global one (`RATE_LIMIT_CODE_BURNS`, `RATE_LIMIT_CODE_BURNS_GLOBAL`). Requests a browser makes
 * for a sub-resource are never burned, so a page cannot spend a visitor's budget with images.
 */
import { type Upstream, UpstreamError } from '../upstream/upstream.js';
import { newToken } from './codes.js';
import { codeVerifier, newState } from './pkce.js';
import type { RateLimits } from './rate-limits.js';

/**
 * What became of a code that reached a refused callback:
 * - `burned`: the provider issued a token for it, which was discarded (a live code was leaked or injected);
 * - `rejected`: the provider refused it (already used, expired, never issued);
 * - `failed`: the provider could not be asked (down, slow, unreadable);
 * - `limited`: the address or everyone is over the budget, the provider was not asked;
 * - `repeated`: the code was seen before (burned then, or bound to its own flow), the provider was not asked;
 * - `subresource`: the request was a browser's sub-resource fetch, never a provider's redirect, it was not asked;
 * - `malformed`: not shaped like the provider's codes, it was not asked.
 */
export type BurnResult =
  | 'burned'
  | 'rejected'
  | 'failed'
  | 'limited'
  | 'repeated'
  | 'subresource'
  | 'malformed';

export interface CodeBurnerDeps {
  upstream: Upstream;
  limits: RateLimits;
  redirectUri: string;
  now: () => number;
}

/** Redeems and discards codes first seen at a refused callback. */
export class CodeBurner {
  constructor(private readonly deps: CodeBurnerDeps) {}

  /** Make `code` worthless at the provider, within the budgets of the caller's address `ip` and of everyone. */
  async burn(code: string, ip: string): Promise<BurnResult> {
    if (!this.deps.upstream.isCodeShaped(code)) return 'malformed';
    const refusal = await this.deps.limits.codeBurn(ip, new Date(this.deps.now()));
    if (refusal) return 'limited';
    try {
      // A verifier that matches nothing: a provider that binds codes to PKCE refuses it, and a
      // presented code is used up either way. The token, if any, is never looked at.
      await this.deps.upstream.exchangeCode({
        code,
        codeVerifier: codeVerifier(newToken(32), newState()),
        redirectUri: this.deps.redirectUri,
      });
      return 'burned';
    } catch (err) {
      if (err instanceof UpstreamError && err.kind === 'rejected') return 'rejected';
      return 'failed';
    }
  }
}
