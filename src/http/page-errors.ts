/**
 * Page errors over HTTP: the status of each reason, and the page that re-renders one. The flow
 * says why a step cannot go on (`PageError`); this module says what that is in HTTP.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PageError, PageErrorReason } from '../device-flow/page-error.js';
import { errorPage } from '../views/pages.js';
import { type Browser, sendPage } from './browser.js';

/** The HTTP status of each reason a page cannot go on. */
const PAGE_STATUS: Record<PageErrorReason, number> = {
  invalid_code: 400,
  expired: 400,
  already_used: 400,
  rate_limited: 429,
  wrong_browser: 403,
  unknown_state: 400,
  upstream_unavailable: 502,
  upstream_rejected: 502,
  misconfigured: 502,
  forbidden: 403,
  wrong_origin: 403,
  cookies_required: 400,
  bad_request: 400,
  cross_network: 403,
  code_mismatch: 400,
  code_not_usable: 400,
  server_error: 500,
};

/** The HTTP status of a page error: its own override, else its reason's. */
export function pageStatus(err: PageError): number {
  return err.options.statusCode ?? PAGE_STATUS[err.reason];
}

/** Render a `PageError` as its page. */
export function renderPageError(
  request: FastifyRequest,
  reply: FastifyReply,
  browser: Browser,
  err: PageError,
): FastifyReply {
  if (err.options.retryAfterSeconds) reply.header('retry-after', String(err.options.retryAfterSeconds));
  const ctx = browser.context(request, reply);
  return sendPage(reply, pageStatus(err), errorPage(ctx, err.reason, err.options));
}
