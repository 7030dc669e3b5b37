/**
 * Every failure answered in one place: on a page route it re-renders as a page, elsewhere it is
 * the RFC JSON error (`toOAuthBody`) with the JSON security headers. Fastify's own refusals
 * (bad JSON, wrong content type, too large, schema) become RFC errors too; anything else is a
 * 500 whose details stay in the log.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { PageError } from '../device-flow/page-error.js';
import {
  InvalidRequest,
  NotFound,
  OAuthError,
  PayloadTooLarge,
  TemporarilyUnavailable,
  toOAuthBody,
} from '../oauth-errors.js';
import { isDatabaseUnavailable } from '../storage/database-errors.js';
import type { Browser } from './browser.js';
import { renderPageError } from './page-errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A browser route: errors re-render a page instead of JSON. */
    page?: boolean;
  }
}

/** Fastify's own 4xx errors (bad JSON, wrong content type, too large, schema) as OAuth errors. */
function clientError(error: FastifyError): OAuthError | undefined {
  const status = error.statusCode ?? 500;
  if (status === 413) return new PayloadTooLarge('The request body is too large');
  if (error.validation) return new InvalidRequest(`Invalid request: ${error.message}`.slice(0, 200));
  if (status >= 400 && status < 500) return new InvalidRequest(error.message.slice(0, 200));
  return undefined;
}

/** The error and not-found handlers; `jsonHeaders` go on every JSON answer. */
export function handleErrors(
  app: FastifyInstance,
  options: { browser: Browser; jsonHeaders: Record<string, string> },
): void {
  const { browser, jsonHeaders } = options;
  app.setErrorHandler(async (error: FastifyError | OAuthError | PageError, request, reply) => {
    if (error instanceof PageError) return renderPageError(request, reply, browser, error);
    const oauth =
      error instanceof OAuthError
        ? error
        : isDatabaseUnavailable(error)
          ? new TemporarilyUnavailable('The database is unreachable; try again shortly')
          : clientError(error);
    if (!oauth) request.log.error({ err: error }, 'unhandled error');
    if (request.routeOptions.config?.page === true) {
      const reason = !oauth || oauth instanceof TemporarilyUnavailable ? 'server_error' : 'bad_request';
      // Keep the status (413, 503, …): only the body becomes a page.
      const statusCode = oauth?.statusCode ?? 500;
      return renderPageError(request, reply, browser, new PageError(reason, { statusCode }));
    }
    const { statusCode, body, headers } = toOAuthBody(oauth ?? error);
    return reply.code(statusCode).headers(jsonHeaders).headers(headers).send(body);
  });

  app.setNotFoundHandler(async (_request, reply) => {
    const { statusCode, body } = toOAuthBody(new NotFound('No such endpoint'));
    return reply.code(statusCode).headers(jsonHeaders).send(body);
  });
}
