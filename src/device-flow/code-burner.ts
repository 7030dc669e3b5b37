/**
 * Burning leaked Postiz codes. Postiz ignores PKCE for `pca_` apps, so an unused code of our
 * app could be exchanged inside anyone's flow. A code that reaches the callback and is not
 * used for its own flow (the callback was refused) is therefore redeemed at Postiz at once
 * and the token thrown away: by the time the refusal page shows, the code in its URL is
 * worthless (docs/security.md, "A leaked Postiz code").
 *
 * Burning must not turn junk callbacks into load on Postiz's token endpoint (which would get
 * this app rate-limited there): only well-formed codes are redeemed, each code once, and each
 * client address within a budget (`RATE_LIMIT_CODE_BURNS`). At most one upstream call per
 * inbound request, so never an amplifier.
 */
import { type PostizClient, UpstreamError } from '../postiz/client.js';
import { hashSecret, newToken } from './codes.js';
import { codeVerifier, newState } from './pkce.js';
import type { RateLimits } from './rate-limits.js';

/**
 * What became of a code:
 * - `burned`: Postiz issued a token for it, which was discarded (a live code was leaked or injected);
 * - `rejected`: Postiz refused it (already used, expired, never issued);
 * - `failed`: Postiz could not be asked (down, slow, unreadable);
 * - `limited`: the address is over its budget, Postiz was not asked;
 * - `repeated`: this code was burned a moment ago, Postiz was not asked again;
 * - `malformed`: not shaped like a Postiz code, Postiz was not asked.
 */
export type BurnResult = 'burned' | 'rejected' | 'failed' | 'limited' | 'repeated' | 'malformed';

/**
 * Postiz codes are 32 letters and digits. Some slack either way, so that a change of length
 * at Postiz does not silently stop the burning, but nothing that could carry markup or paths.
 */
const POSTIZ_CODE = /^[A-Za-z0-9]{16,128}$/;
/** Postiz codes live 10 minutes: a code burned longer ago than that cannot come back alive. */
const REMEMBER_MS = 10 * 60 * 1000;
/** Bound on remembered codes (their hashes); the oldest are forgotten first. */
const REMEMBER_MAX = 10_000;

export interface CodeBurnerDeps {
  postiz: PostizClient;
  limits: RateLimits;
  redirectUri: string;
  now: () => number;
}

/** Redeems and discards codes that reached a refused callback. */
export class CodeBurner {
  /** Hashes of codes burned recently (never the codes), with when. */
  private readonly recent = new Map<string, number>();

  constructor(private readonly deps: CodeBurnerDeps) {}

  /** Make `code` worthless at Postiz, within the budget of the caller's address `ip`. */
  async burn(code: string, ip: string): Promise<BurnResult> {
    if (!POSTIZ_CODE.test(code)) return 'malformed';
    const now = this.deps.now();
    const key = hashSecret(code).toString('hex');
    if (this.seen(key, now)) return 'repeated';
    const refusal = await this.deps.limits.codeBurn(ip, new Date(now));
    if (refusal) return 'limited';
    this.remember(key, now);
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
      // Not redeemed: a later callback with the same code may try again.
      this.recent.delete(key);
      return 'failed';
    }
  }

  private seen(key: string, now: number): boolean {
    const at = this.recent.get(key);
    return at !== undefined && now - at < REMEMBER_MS;
  }

  private remember(key: string, now: number): void {
    this.recent.delete(key);
    this.recent.set(key, now);
    // Insertion order is age order: drop from the front.
    for (const [oldKey, at] of this.recent) {
      if (this.recent.size <= REMEMBER_MAX && now - at < REMEMBER_MS) break;
      this.recent.delete(oldKey);
    }
  }
}
