/**
 * Mistakes that the settings' parsers alone cannot see, caught before they cost anything:
 * production on an embedded database nobody chose, a listening address that cannot exist, a
 * public URL that points at the user's own machine or is served over plain http, a client
 * address that the client itself writes. Each returns the one line an operator needs, or
 * undefined; `config.ts` turns problems into a `ConfigError`, `cli.ts` logs warnings
 * (`startupWarnings`).
 */
import { isIP } from 'node:net';
import type { Config } from './config.js';

type Env = Record<string, string | undefined>;

const isProduction = (env: Env): boolean => env.NODE_ENV?.trim() === 'production';

/**
 * In production, the embedded database only when asked for by name: a misspelt or forgotten
 * DATABASE_URL would otherwise start each replica on a database of its own, silently.
 */
export function embeddedDatabaseProblem(config: Pick<Config, 'databaseUrl'>, env: Env): string | undefined {
  if (!isProduction(env) || config.databaseUrl || env.PGLITE_DATA_DIR?.trim()) return undefined;
  return 'NODE_ENV=production but neither DATABASE_URL nor PGLITE_DATA_DIR is set: the server would keep its data in an embedded database of its own (./.data/pglite), one per instance. Set DATABASE_URL to your PostgreSQL, or set PGLITE_DATA_DIR to use the embedded database on purpose (one instance only).';
}

/**
 * A HOST that cannot be listened on, told before start-up: something shaped like an IPv4
 * address that is not one (999.1.1.1 would otherwise be looked up as a host name), a URL, or
 * an address with a port.
 */
export function hostProblem(host: string): string | undefined {
  const value = host.trim();
  if (/^\d+(\.\d+){3}$/.test(value) && isIP(value) === 0) {
    return `HOST must be an address of this machine (or 0.0.0.0 for all of them), got "${value}": not an IPv4 address (each part is 0–255)`;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return `HOST is an address to listen on, not a URL, got "${value}": the public URL is SERVER_URL`;
  }
  const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  if (withPort) {
    return `HOST must not carry a port, got "${value}": set HOST=${withPort[1]!.replace(/^\[|\]$/g, '')} and PORT=${withPort[2]}`;
  }
  if (/^\[.*\]$/.test(value)) {
    return `HOST takes an IPv6 address without brackets, got "${value}": HOST=${value.slice(1, -1)}`;
  }
  return undefined;
}

/** Why one entry of a TRUST_PROXY list is not an address, a CIDR range or a named range. */
export function proxyEntryProblem(entry: string): string {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (entry === '') return 'an address (an empty entry: a doubled or trailing comma?)';
  if (family === 0 || rest.length > 0) {
    return 'an IP address, a CIDR range (10.0.0.0/8) or one of loopback, linklocal, uniquelocal';
  }
  const bits = family === 4 ? 32 : 128;
  return `a CIDR range: the prefix length /${prefix} must be a number from 0 to ${bits} for an IPv${family} address`;
}

/** Whether `hostname` (from a URL) names this machine only. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    (isIP(host) === 4 && host.startsWith('127.')) ||
    host === '0.0.0.0'
  );
}

/** In production, a SERVER_URL on a loopback address: every link would lead to the user's own machine. */
export function loopbackServerUrlWarning(config: Pick<Config, 'serverUrl'>, env: Env): string | undefined {
  if (!isProduction(env)) return undefined;
  const { hostname } = new URL(config.serverUrl);
  if (!isLoopback(hostname)) return undefined;
  const given = env.SERVER_URL?.trim() ? '' : ' (the default: SERVER_URL is not set)';
  return `SERVER_URL is ${config.serverUrl}${given}, a loopback address, while NODE_ENV=production: the links, the callback URL and the cookies will point at each user's own machine. Set SERVER_URL to the public https:// URL of this server.`;
}

/**
 * In production, a public SERVER_URL over plain http: the cookies that bind a login to its
 * browser lose `Secure` and the `__Host-` prefix, and no HSTS is sent (docs/deploy.md, "https
 * and SERVER_URL"). A loopback URL has its own warning.
 */
export function plainHttpServerUrlWarning(config: Pick<Config, 'serverUrl'>, env: Env): string | undefined {
  if (!isProduction(env)) return undefined;
  const url = new URL(config.serverUrl);
  if (url.protocol !== 'http:' || isLoopback(url.hostname)) return undefined;
  return `SERVER_URL is ${config.serverUrl}, plain http on a public host, while NODE_ENV=production: the cookies that bind a login to the browser that confirmed it are sent without Secure, readable and replaceable by anyone on the network path, and no Strict-Transport-Security is sent, so browsers keep using plain http. Terminate TLS at a proxy or the platform and set SERVER_URL to the https:// URL.`;
}

/**
 * In production, TRUST_PROXY=true: the client address becomes the first X-Forwarded-For entry,
 * which the client writes (docs/security.md), so the cross-network check and the per-address
 * limits can be walked around.
 */
export function trustProxyWarning(config: Pick<Config, 'trustProxy'>, env: Env): string | undefined {
  if (!isProduction(env) || config.trustProxy !== true) return undefined;
  return 'TRUST_PROXY=true takes the client address from the first X-Forwarded-For entry, which the client writes itself: a device can claim the address of the browser it wants to confirm its login (skipping the cross-network check) and spread its rate limits over made-up addresses. Set TRUST_PROXY to the number of proxies in front of this server (1 behind one load balancer), or to their addresses or CIDR ranges (uniquelocal for a private network).';
}

/** A start-up warning: its line, and the log fields that name the setting. */
export interface StartupWarning {
  fields: Record<string, unknown>;
  message: string;
}

/** Every warning `serve` logs at start-up about its settings, in order. */
export function startupWarnings(
  config: Pick<Config, 'serverUrl' | 'trustProxy'>,
  env: Env,
): StartupWarning[] {
  const warnings: StartupWarning[] = [];
  const loopback = loopbackServerUrlWarning(config, env);
  if (loopback) warnings.push({ fields: { serverUrl: config.serverUrl }, message: loopback });
  const plainHttp = plainHttpServerUrlWarning(config, env);
  if (plainHttp) warnings.push({ fields: { serverUrl: config.serverUrl }, message: plainHttp });
  const trust = trustProxyWarning(config, env);
  if (trust) warnings.push({ fields: { trustProxy: config.trustProxy }, message: trust });
  return warnings;
}
