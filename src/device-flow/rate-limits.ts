/**
 * Guessing and flooding limits (RFC 8628 §5.1), kept in the store so they hold across
 * instances. Every attempt is counted before the work it limits, by one statement that
 * increments and returns the count, so no burst gets past a limit (docs/security.md).
 *
 * No limit may be turned against the people it protects: the global ceiling on wrong user
 * codes only refuses addresses past their first few attempts in the window (someone else's
 * guessing never stops a user typing the right code, even after a few typos), and IPv6 guesses
 * count per /64 and per /48, so one allocation's addresses share one budget.
 *
 * A refusal is remembered in this process until its window ends: a refused address keeps
 * being refused without any database round trip, so hammering costs the database nothing.
 */
import type { Config } from '../config.js';
import type { RateCount, RateRule, Store } from '../storage/store.js';
import { addressKey, siteKey } from './addresses.js';

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
  /**
   * Before forwarding a refresh request from `ip`: a refusal once its address (IPv6: its /48) is
   * over its limit, or, past its allowance, all addresses together are over the global one.
   */
  refresh(ip: string, now: Date): Promise<Refusal | undefined>;
  /**
   * Before redeeming a refused callback's code at the provider: a refusal once `ip` is over its
   * budget, or all addresses together are over the global one (counted only within its own).
   */
  codeBurn(ip: string, now: Date): Promise<Refusal | undefined>;
}

const secondsUntil = (resetAt: Date, now: Date): number =>
  Math.max(1, Math.ceil((resetAt.getTime() - now.getTime()) / 1000));

/** An IPv6 /48 (a site) may guess this many times what one address may. */
export const SITE_GUESSES_FACTOR = 10;

/**
 * Attempts per address and window that are looked up whatever the global ceiling says: a user
 * who mistypes the code a few times (three typos, then the right code) still gets in while
 * others' guessing has spent the ceiling. What it costs: B guessing addresses get this many
 * guesses each per window beyond the ceiling (docs/security.md, "The arithmetic").
 */
export const CEILING_ALLOWANCE = 4;

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
  const globalRefreshes: RateRule = {
    key: 'refresh:*',
    windowMs: config.refreshWindowSeconds * 1000,
    max: config.refreshGlobalLimit,
  };
  const codeBurnWindow = config.codeBurnWindowSeconds * 1000;
  const globalBurns: RateRule = {
    key: 'code-burn:*',
    windowMs: codeBurnWindow,
    max: config.codeBurnGlobalLimit,
  };

  /**
   * A global ceiling's refusal of an address (`own`, counted `mine`): only once the address is
   * past its allowance in its own window and everyone (`all`) past the ceiling; until the first
   * of the two windows ends, since a new window of the address's own brings its allowance back.
   */
  const pastCeiling = (
    own: RateRule,
    mine: RateCount,
    all: RateCount,
    ceiling: RateRule,
    now: Date,
  ): Refusal | undefined => {
    if (mine.hits <= CEILING_ALLOWANCE || all.hits <= ceiling.max) return undefined;
    const until = new Date(Math.min(mine.resetAt.getTime(), all.resetAt.getTime()));
    memo.set(own.key, until);
    return { retryAfterSeconds: secondsUntil(until, now) };
  };

  /** Count one hit on `rule` unless it is already known to be refused. */
  const count = async (rule: RateRule, now: Date): Promise<Refusal | undefined> =>
    memo.get(rule.key, now) ?? refusal(await store.hit(rule.key, now, rule.windowMs), rule, now);

  return {
    flowStart: (ip) => ({
      // Per /48 for IPv6: one allocation (a site's usual /48) could otherwise start 65,536
      // times the limit from its /64s.
      key: `flow-start:${siteKey(ip)}`,
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
      const site = siteKey(ip);
      const rules: RateRule[] = [own, globalUserCodes];
      if (site !== addressKey(ip)) {
        rules.push({
          key: `user-code:${site}`,
          windowMs: userCodeWindow,
          max: config.userCodeAttempts * SITE_GUESSES_FACTOR,
        });
      }
      const known = memo.get(own.key, now) ?? (rules[2] ? memo.get(rules[2].key, now) : undefined);
      if (known) return { refusal: known };
      // Counted before the lookup, atomically: simultaneous guesses each see their own count,
      // so no burst gets more lookups than the limits allow (docs/security.md).
      const counts = await store.hitAll(
        rules.map((r) => r.key),
        now,
        userCodeWindow,
      );
      const [mine, all, ofSite] = counts as [RateCount, RateCount, RateCount | undefined];
      let refused = refusal(mine, own, now) ?? (ofSite ? refusal(ofSite, rules[2]!, now) : undefined);
      // The global ceiling bounds guessing from many addresses, but only for addresses past
      // their allowance in this window: an attempt is counted before its lookup and given back
      // when right, so `hits` counts wrong ones and this one. A user's first attempts (the right
      // code, pre-filled from the link, or typed after a few typos) are never refused for
      // others' guessing.
      refused ??= pastCeiling(own, mine, all, globalUserCodes, now);
      if (refused) return { refusal: refused };
      return {
        forgive: () =>
          store.forgive(rules.map((rule, i) => ({ key: rule.key, windowStart: counts[i]!.windowStart }))),
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

    async refresh(ip, now) {
      // Per /48 for IPv6, as flow starts: each refresh carries this server's client secret to
      // the provider, which may throttle or lock the client, ending everyone's logins.
      const own: RateRule = {
        key: `refresh:${siteKey(ip)}`,
        windowMs: config.refreshWindowSeconds * 1000,
        max: config.refreshLimit,
      };
      const known = memo.get(own.key, now);
      if (known) return known;
      const [mine, all] = (await store.hitAll([own.key, globalRefreshes.key], now, own.windowMs)) as [
        RateCount,
        RateCount,
      ];
      const refused = refusal(mine, own, now);
      if (refused) return refused;
      // As for user codes: the ceiling refuses only addresses past their allowance, so a CLI
      // refreshing its token (once per token's lifetime) is never refused for others' flood.
      return pastCeiling(own, mine, all, globalRefreshes, now);
    },

    async codeBurn(ip, now) {
      // The address's budget first, then the global one only for burns within it: one
      // address's junk cannot spend everyone's budget.
      const own = await count(
        { key: `code-burn:${addressKey(ip)}`, windowMs: codeBurnWindow, max: config.codeBurnLimit },
        now,
      );
      return own ?? count(globalBurns, now);
    },
  };
}
