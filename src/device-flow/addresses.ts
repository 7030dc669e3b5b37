/**
 * Client addresses: the one a request comes from, the key a limit counts it under, and
 * whether two of them are on the same network (the confirmation page compares the device's
 * with the browser's, as the OAuth cross-device security BCP advises: help the user notice
 * a request that is not theirs).
 */
import { isIP } from 'node:net';

/** Longer than any address `net.isIP` accepts with a zone id a host would use. */
const MAX_ADDRESS_LENGTH = 64;

/** What stands for a client address that is not an IP address (a forged `X-Forwarded-For`). */
export const UNKNOWN_ADDRESS = 'unknown';

/**
 * The client address as this server keeps it: an IP address, or `unknown`. With
 * `TRUST_PROXY`, the address comes from a header a client may have written; text that is
 * not an address is never shown on a page, logged or used as a limit's key. An IPv6 zone id
 * (`fe80::1%eth0`, which `net.isIP` accepts with any text after the `%`) means nothing beyond
 * the host that wrote it, and would carry that text onto the confirmation page: it is dropped.
 */
export function clientAddress(ip: string): string {
  if (ip.length > MAX_ADDRESS_LENGTH || isIP(ip) === 0) return UNKNOWN_ADDRESS;
  const zone = ip.indexOf('%');
  return zone === -1 ? ip : ip.slice(0, zone);
}

/**
 * The address a limit counts against. One IPv6 host usually holds a whole /64, so IPv6
 * addresses count per prefix (`v6Bits`, /64 unless told otherwise); IPv4-mapped IPv6
 * addresses count as their IPv4 address.
 */
export function addressKey(ip: string, v6Bits: 48 | 64 = 64): string {
  if (isIP(ip) !== 6) return ip;
  const groups = ipv6Groups(ip);
  // IPv4-mapped (::ffff:a.b.c.d), however it is written: hex, dotted, expanded or not.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups
    .slice(0, v6Bits / 16)
    .map((g) => g.toString(16))
    .join(':')}::/${v6Bits}`;
}

/** An IPv6 address's eight 16-bit groups (`ip` is one: `net.isIP` says 6), with any zone id dropped. */
function ipv6Groups(ip: string): number[] {
  let text = ip.toLowerCase().split('%')[0]!;
  // A dotted IPv4 tail stands for the last two groups.
  const dotted = text.match(/^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail = ''] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = text.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return groups.map((g) => Number.parseInt(g, 16));
}

/**
 * The site an address belongs to, for limits that a whole allocation shares: an IPv6 /48 (a
 * site's usual allocation, 65,536 /64s), or the address itself for IPv4.
 */
export function siteKey(ip: string): string {
  return addressKey(ip, 48);
}

/**
 * Whether two client addresses are on the same network: the same address, the same IPv4 /24,
 * or the same IPv6 /64 (IPv4-mapped IPv6 counts as IPv4). Unknown addresses never match.
 */
export function sameNetwork(a: string, b: string): boolean {
  if (a === UNKNOWN_ADDRESS || b === UNKNOWN_ADDRESS || isIP(a) === 0 || isIP(b) === 0) return false;
  const network = (ip: string): string => {
    const key = addressKey(ip);
    return isIP(key) === 4 ? key.split('.').slice(0, 3).join('.') : key;
  };
  return network(a) === network(b);
}

/** Whether a device asked from the confirming browser's network (`unknown`: an address is not known). */
export type NetworkMatch = 'same' | 'different' | 'unknown';

/** Compare the network a flow was started from with the confirming browser's. */
export function networkMatch(device: string | null, browser: string): NetworkMatch {
  if (device === null || device === UNKNOWN_ADDRESS || browser === UNKNOWN_ADDRESS) return 'unknown';
  return sameNetwork(device, browser) ? 'same' : 'different';
}
