/**
 * The fixed headers of the JSON API's hot routes (`/device/code`, `/device/token`). They take
 * the place of helmet there: helmet builds a CSP nonce and re-serializes the policy on every
 * request, which showed in the profile of both routes (docs/performance.md). The values are
 * the ones helmet sends elsewhere, minus what only pages need.
 */

/** The same HSTS value helmet sends on every other response over https (src/app.ts). */
export const HSTS = 'max-age=31536000; includeSubDomains';

/** Headers for every answer of an API route: RFC 6749 §5.1 no-store, and the security headers. */
export function apiHeaders(options: { secure: boolean; formAction: string }): Record<string, string> {
  return {
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': `default-src 'none'; base-uri 'none'; form-action ${options.formAction}; frame-ancestors 'none'`,
    ...(options.secure ? { 'strict-transport-security': HSTS } : {}),
  };
}
