/**
 * Why a step of the browser's side of the flow cannot go on: each reason has its own message in
 * the page catalogs (src/views/i18n/), and the HTTP layer its status (src/http/page-errors.ts).
 */

/** Every reason a browser step cannot go on, each a page of its own. */
export const PAGE_ERROR_REASONS = [
  'invalid_code',
  'expired',
  'already_used',
  'rate_limited',
  'wrong_browser',
  'unknown_state',
  'upstream_unavailable',
  'upstream_rejected',
  'misconfigured',
  'forbidden',
  'wrong_origin',
  'cookies_required',
  'bad_request',
  'cross_network',
  'code_mismatch',
  'code_not_usable',
  'server_error',
] as const;
export type PageErrorReason = (typeof PAGE_ERROR_REASONS)[number];

/**
 * Why a step of the browser's side of the flow cannot go on: re-rendered as a page (its
 * message in the catalogs), never as JSON. `retryAfterSeconds` and `flowId` (a retry is
 * offered) are for the page; the HTTP status is the HTTP layer's (`http/page-errors.ts`), which
 * may also set `statusCode` itself for a failure it turns into a page.
 */
export class PageError extends Error {
  constructor(
    readonly reason: PageErrorReason,
    readonly options: { retryAfterSeconds?: number; flowId?: string; statusCode?: number } = {},
  ) {
    super(reason);
  }
}
