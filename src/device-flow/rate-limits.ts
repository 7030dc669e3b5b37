/**
 * Guessing and flooding limits (RFC 8628 §5.1), kept in the store so they hold across
 * instances. Every attempt is counted before the work it limits, by one statement that
 * increments and returns the count, so no burst gets past a limit (docs/security.md).
 *
 * A refusal is remembered in this process until its window ends: a refused address keeps
 * being refused without any database round trip, so hammering costs the database nothing.
 */
import type { Config } from '../config.js';
import type { RateCount, RateRule, Store } from '../storage/store.js';
import { addressKey } from './addresses.js';

/** A refusal: how long until the window resets. */
export interface Refusal {
  retryAfterSeconds: number;
}

/** A user-code attempt, counted before its lookup: refused, or allowed with a way to give it back. */
export type UserCodeAttempt =
  | { refusal: Refusal; forgive?: undefined }
  | { refusal?: undefined; forgive: () => Promise<void> };

export interface RateLimits {
  /** The limit on flow starts from `ip` (counted by the store as it inserts the flow). */
  flowStart(ip: string): RateRule;
  /** A refusal already known for `rule` (no database round trip), e.g. before starting a flow. */
  knownRefusal(rule: RateRule, now: Date): Refusal | undefined;
  /** A refusal when a count is over its rule's limit (remembered until the window ends). */
  refusal(count: RateCount, rule: RateRule, now: Date): Refusal | undefined;
  /**
   * Count a user-code attempt from `ip` before looking the code up, for the address and for
   * the global ceiling in one statement: a refusal past either limit. A right code is given
   * back (`forgive`), so only wrong codes use the allowance.
   */
  userCodeAttempt(ip: string, now: Date): Promise<UserCodeAttempt>;
  /** After a poll with an unknown device code from `ip`; a refusal once over the limit. */
  unknownDeviceCode(ip: string, now: Date): Promise<Refusal | undefined>;
  /** Before redeeming a refused callback's code at Postiz: a refusal once `ip` is over its budget. */
  codeBurn(ip: string, now: Date): Promise<Refusal | undefined>;
}

const secondsUntil = (resetAt: Date, now: Date): number =>
  Math.max(1, Math.ceil((resetAt.getTime() - now.getTime()) / 1000));

/** How many refusals are remembered at most; the oldest are forgotten first. */
const REMEMBERED_REFUSALS = 10_000;

/** Refusals by rule key, until their window resets. Bounded; a forgotten one is asked of the database again. */
class RefusalMemo {
  private readonly until = new Map<string, number>();

  get(key: string, now: Date): Refusal | undefined {
    const resetAt = this.until.get(key);
    if (resetAt === undefined) return undefined;
    if (resetAt <= now.getTime()) {
      this.until.delete(key);
      return undefined;
    }
    return { retryAfterSeconds: secondsUntil(new Date(resetAt), now) };
  }

  set(key: string, resetAt: Date): void {
    this.until.delete(key);
    this.until.set(key, resetAt.getTime());
    if (this.until.size > REMEMBERED_REFUSALS) this.until.delete(this.until.keys().next().value!);
  }
}

/** Limits from the configured numbers, counted in `store`. */
export function createRateLimits(store: Store, config: Config): RateLimits {
  const memo = new RefusalMemo();
  const userCodeWindow = config.userCodeWindowSeconds * 1000;
  const globalUserCodes: RateRule = {
    key: 'user-code:*',
    windowMs: userCodeWindow,
    max: config.userCodeGlobalAttempts,
  };

  const refusal = (count: RateCount, rule: RateRule, now: Date): Refusal | undefined => {
    if (count.hits <= rule.max) return undefined;
    memo.set(rule.key, count.resetAt);
    return { retryAfterSeconds: secondsUntil(count.resetAt, now) };
  };

  /** Count one hit on `rule` unless it is already known to be refused. */
  const count = async (rule: RateRule, now: Date): Promise<Refusal | undefined> =>
    memo.get(rule.key, now) ?? refusal(await store.hit(rule.key, now, rule.windowMs), rule, now);

  return {
    flowStart: (ip) => ({
      // Per /48 for IPv6: one allocation (a site's usual /48) could otherwise start 65,536
      // times the limit from its /64s.
      key: `flow-start:${addressKey(ip, 48)}`,
      windowMs: config.flowStartWindowSeconds * 1000,
      max: config.flowStartLimit,
    }),

    knownRefusal: (rule, now) => memo.get(rule.key, now),

    refusal,

    async userCodeAttempt(ip, now) {
      const own: RateRule = {
        key: `user-code:${addressKey(ip)}`,
        windowMs: userCodeWindow,
        max: config.userCodeAttempts,
      };
      const known = memo.get(own.key, now) ?? memo.get(globalUserCodes.key, now);
      if (known) return { refusal: known };
      // Counted before the lookup, atomically: simultaneous guesses each see their own count,
      // so no burst gets more lookups than the limits allow (docs/security.md).
      const [mine, all] = await store.hitAll([own.key, globalUserCodes.key], now, userCodeWindow);
      const refused = refusal(mine!, own, now) ?? refusal(all!, globalUserCodes, now);
      if (refused) return { refusal: refused };
      return {
        forgive: () =>
          store.forgive([
            { key: own.key, windowStart: mine!.windowStart },
            { key: globalUserCodes.key, windowStart: all!.windowStart },
          ]),
      };
    },

    unknownDeviceCode: (ip, now) =>
      count(
        {
          key: `unknown-poll:${addressKey(ip)}`,
          windowMs: config.unknownPollWindowSeconds * 1000,
          max: config.unknownPollLimit,
        },
        now,
      ),

    codeBurn: (ip, now) =>
      count(
        {
          key: `code-burn:${addressKey(ip)}`,
          windowMs: config.codeBurnWindowSeconds * 1000,
          max: config.codeBurnLimit,
        },
        now,
      ),
  };
}
