/**
 * Burning leaked Postiz codes, as defence in depth. What makes a leaked code worthless is that
 * this server records every code that reaches the callback and never exchanges one first seen
 * at a refused callback (`Store.sightCodes`, docs/security.md): only this server holds the
 * client secret. A code first seen at a refused callback is also redeemed at Postiz and its
 * token thrown away, so it is dead at Postiz too, should the record ever be lost.
 *
 * Burning must not turn junk callbacks into load on Postiz's token endpoint (which would get
 * this app rate-limited there): only well-formed codes are redeemed, only at their first
 * sighting, at most one per request, within a budget per client address and a global one
 * (`RATE_LIMIT_CODE_BURNS`, `RATE_LIMIT_CODE_BURNS_GLOBAL`). Requests a browser makes for a
 * sub-resource are never burned, so a page cannot spend a visitor's budget with images.
 */
import { type PostizClient, UpstreamError } from '../postiz/client.js';
import { newToken } from './codes.js';
import { codeVerifier, newState } from './pkce.js';
import type { RateLimits } from './rate-limits.js';

/**
 * What became of a code that reached a refused callback:
 * - `burned`: Postiz issued a token for it, which was discarded (a live code was leaked or injected);
 * - `rejected`: Postiz refused it (already used, expired, never issued);
 * - `failed`: Postiz could not be asked (down, slow, unreadable);
 * - `limited`: the address or everyone is over the budget, Postiz was not asked;
 * - `repeated`: the code was seen before (burned then, or bound to its own flow), Postiz was not asked;
 * - `subresource`: the request was a browser's sub-resource fetch, never a Postiz redirect, Postiz was not asked;
 * - `malformed`: not shaped like a Postiz code, Postiz was not asked.
 */
export type BurnResult =
  | 'burned'
  | 'rejected'
  | 'failed'
  | 'limited'
  | 'repeated'
  | 'subresource'
  | 'malformed';

/**
 * Postiz codes are 32 letters and digits. Some slack either way, so that a change of length
 * at Postiz does not silently stop the burning, but nothing that could carry markup or paths.
 */
const POSTIZ_CODE = /^[A-Za-z0-9]{16,128}$/;

export interface CodeBurnerDeps {
  postiz: PostizClient;
  limits: RateLimits;
  redirectUri: string;
  now: () => number;
}

/** Redeems and discards codes first seen at a refused callback. */
export class CodeBurner {
  constructor(private readonly deps: CodeBurnerDeps) {}

  /** Make `code` worthless at Postiz, within the budgets of the caller's address `ip` and of everyone. */
  async burn(code: string, ip: string): Promise<BurnResult> {
    if (!POSTIZ_CODE.test(code)) return 'malformed';
    const refusal = await this.deps.limits.codeBurn(ip, new Date(this.deps.now()));
    if (refusal) return 'limited';
    try {
      // A verifier that matches nothing: for `pcd_` apps Postiz refuses it, and a presented
      // code is used up either way. The token, if any, is never looked at.
      await this.deps.postiz.exchangeCode({
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
