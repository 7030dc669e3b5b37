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
  const mapped = ip.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, v6Bits / 16)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/${v6Bits}`;
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
