/**
 * Guessing and flooding limits (RFC 8628 §5.1), kept in the store so they hold across
 * instances. Each limit stops only the offender: a right code from a clean address is never
 * refused (docs/security.md).
 */
import { isIP } from 'node:net';
import type { Config } from '../config.js';
import type { RateCount, RateRule, Store } from '../storage/store.js';

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
  /** A refusal when a count is over its rule's limit. */
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

/**
 * The address a limit counts against. One IPv6 host usually holds a whole /64, so IPv6
 * addresses count per /64 prefix; IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function addressKey(ip: string): string {
  const mapped = ip.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

const secondsUntil = (resetAt: Date, now: Date): number =>
  Math.max(1, Math.ceil((resetAt.getTime() - now.getTime()) / 1000));

/** Limits from the configured numbers, counted in `store`. */
export function createRateLimits(store: Store, config: Config): RateLimits {
  const userCodeWindow = config.userCodeWindowSeconds * 1000;
  const GLOBAL = 'user-code:*';

  return {
    flowStart: (ip) => ({
      key: `flow-start:${addressKey(ip)}`,
      windowMs: config.flowStartWindowSeconds * 1000,
      max: config.flowStartLimit,
    }),

    refusal: (count, rule, now) =>
      count.hits > rule.max ? { retryAfterSeconds: secondsUntil(count.resetAt, now) } : undefined,

    async userCodeAttempt(ip, now) {
      // Counted before the lookup, atomically: simultaneous guesses each see their own count,
      // so no burst gets more lookups than the limits allow (docs/security.md).
      const mine = `user-code:${addressKey(ip)}`;
      const [own, all] = await store.hitAll([mine, GLOBAL], now, userCodeWindow);
      if (own!.hits > config.userCodeAttempts)
        return { refusal: { retryAfterSeconds: secondsUntil(own!.resetAt, now) } };
      if (all!.hits > config.userCodeGlobalAttempts) {
        return { refusal: { retryAfterSeconds: secondsUntil(all!.resetAt, now) } };
      }
      return {
        forgive: () =>
          store.forgive([
            { key: mine, windowStart: own!.windowStart },
            { key: GLOBAL, windowStart: all!.windowStart },
          ]),
      };
    },

    async unknownDeviceCode(ip, now) {
      const count = await store.hit(
        `unknown-poll:${addressKey(ip)}`,
        now,
        config.unknownPollWindowSeconds * 1000,
      );
      return count.hits > config.unknownPollLimit
        ? { retryAfterSeconds: secondsUntil(count.resetAt, now) }
        : undefined;
    },

    async codeBurn(ip, now) {
      const count = await store.hit(`code-burn:${addressKey(ip)}`, now, config.codeBurnWindowSeconds * 1000);
      return count.hits > config.codeBurnLimit
        ? { retryAfterSeconds: secondsUntil(count.resetAt, now) }
        : undefined;
    },
  };
}
