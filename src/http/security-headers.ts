/**
 * The security headers, defined once (docs/security.md, "Headers, logs and other hygiene"):
 * pages and the operations routes get them from helmet, with a fresh nonce for the page's
 * script; JSON answers of the API (the hot routes, errors, 404) get the same policy as a
 * fixed block of headers, serialized once at start-up, because helmet builds a nonce and
 * serializes the policy on every request (it showed in the profile of polls and starts,
 * docs/performance.md).
 */
import type { FastifyHelmetOptions } from '@fastify/helmet';

export interface SecurityHeaderOptions {
  /** SERVER_URL is https: HSTS, and insecure requests upgraded. */
  secure: boolean;
  /** Where the confirmation form sends the browser (the provider's authorize origin). */
  authorizeOrigin: string;
}

/** Strict-Transport-Security over https: a year, subdomains included. */
const HSTS_MAX_AGE = 31_536_000;

/** The Content-Security-Policy's directives (helmet's names). */
export function cspDirectives(options: SecurityHeaderOptions): Record<string, string[]> {
  return {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    // The confirmation form redirects to the provider; form-action applies to that redirect.
    formAction: ["'self'", options.authorizeOrigin],
    frameAncestors: ["'none'"],
    ...(options.secure ? { upgradeInsecureRequests: [] } : {}),
  };
}

/** helmet's options for pages and the operations routes. */
export function helmetOptions(options: SecurityHeaderOptions): FastifyHelmetOptions {
  return {
    enableCSPNonces: true,
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(options) },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: options.secure ? { maxAge: HSTS_MAX_AGE, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  };
}

/** `defaultSrc: ["'none'"]` → `default-src 'none'`, as helmet writes it. */
function serialize(directives: Record<string, string[]>): string {
  return Object.entries(directives)
    .map(([name, values]) => [name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), ...values].join(' '))
    .join(';');
}

/**
 * Every JSON answer's headers: never stored (RFC 6749 §5.1: they carry codes and tokens), and
 * the policy of the pages, which forbids everything to a JSON document anyway.
 */
export function jsonHeaders(options: SecurityHeaderOptions): Record<string, string> {
  return {
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': serialize(cspDirectives(options)),
    ...(options.secure ? { 'strict-transport-security': `max-age=${HSTS_MAX_AGE}; includeSubDomains` } : {}),
  };
}
