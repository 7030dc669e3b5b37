/**
 * The browser's side of the flow: GET/POST /device/verify (code entry, confirmation, cancel,
 * retry) and GET /device/callback (Postiz comes back). Errors re-render a page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sameNetwork, UNKNOWN_ADDRESS } from '../device-flow/addresses.js';
import { formatUserCode } from '../device-flow/codes.js';
import type { Authorization, FlowService, FoundFlow } from '../device-flow/flow-service.js';
import { PageError } from '../errors.js';
import { translator } from '../views/i18n/index.js';
import { confirmPage, endingPage, entryPage, errorPage } from '../views/pages.js';
import { describeAge, describeUserAgent } from '../views/user-agent.js';
import { type Browser, sendPage } from './browser.js';
import type { CallerOf } from './caller.js';

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** A query parameter's values: none, one, or several when it was repeated. */
const values = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.filter((v) => typeof v === 'string')
      : [];

/** Fields of a form post; anything that is not a flat object of strings is a bad request. */
function formFields(request: FastifyRequest): Record<string, string | undefined> {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new PageError('bad_request');
  const fields: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(body)) fields[key] = str(value);
  return fields;
}

/** What one button of the verification form does. */
type VerifyAction = (
  request: FastifyRequest,
  reply: FastifyReply,
  fields: Record<string, string | undefined>,
) => Promise<FastifyReply>;

export function verifyRoutes(
  app: FastifyInstance,
  flows: FlowService,
  browser: Browser,
  now: () => number,
  callerOf: CallerOf,
): void {
  const page = { config: { page: true } };

  const redirectToPostiz = (reply: FastifyReply, authorization: Authorization): FastifyReply => {
    browser.setCookie(
      reply,
      authorization.binding.name,
      authorization.binding.value,
      authorization.binding.maxAgeSeconds,
    );
    // 303: the browser follows with a GET, as Postiz's authorize page expects.
    return reply.header('cache-control', 'no-store').redirect(authorization.redirectTo, 303);
  };

  app.get('/device/verify', page, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const code = str(query.code)?.slice(0, 32);
    return sendPage(reply, 200, entryPage(browser.context(request, reply), { code }));
  });

  /** Code entry: the confirmation page, or the entry page again with what was typed and why. */
  const showConfirmation: VerifyAction = async (request, reply, fields) => {
    const ctx = browser.context(request, reply);
    const typed = fields.user_code?.slice(0, 32);
    let found: FoundFlow;
    try {
      found = await flows.enterCode(typed, callerOf(request, reply));
    } catch (err) {
      if (err instanceof PageError && (err.reason === 'invalid_code' || err.reason === 'rate_limited')) {
        const options = { code: typed, error: err.reason, retryAfterSeconds: err.options.retryAfterSeconds };
        if (err.options.retryAfterSeconds) reply.header('retry-after', String(err.options.retryAfterSeconds));
        return sendPage(reply, err.statusCode, entryPage(ctx, options));
      }
      throw err;
    }
    const t = translator(ctx.lang);
    const device = found.flow.clientIp ?? UNKNOWN_ADDRESS;
    const browserAddress = callerOf(request, reply).ip;
    return sendPage(
      reply,
      200,
      confirmPage(ctx, {
        userCode: formatUserCode(found.userCode),
        device: describeUserAgent(found.flow.userAgent, t),
        address: device === UNKNOWN_ADDRESS ? undefined : device,
        requested: describeAge(found.flow.createdAt, now(), t),
        network:
          device === UNKNOWN_ADDRESS || browserAddress === UNKNOWN_ADDRESS
            ? 'unknown'
            : sameNetwork(device, browserAddress)
              ? 'same'
              : 'different',
      }),
    );
  };

  /** Continue on the confirmation page: to Postiz's consent page. */
  const confirm: VerifyAction = async (request, reply, fields) => {
    const found = await flows.lookup(fields.user_code?.slice(0, 32), callerOf(request, reply));
    return redirectToPostiz(reply, await flows.authorize(found.flow, callerOf(request, reply)));
  };

  /** Cancel on the confirmation page: the flow ends, and the CLI gets `access_denied`. */
  const cancel: VerifyAction = async (request, reply, fields) => {
    const found = await flows.lookup(fields.user_code?.slice(0, 32), callerOf(request, reply));
    await flows.cancel(found.flow, callerOf(request, reply));
    return sendPage(reply, 200, endingPage(browser.context(request, reply), 'cancelled'));
  };

  /** Try again, after Postiz failed the exchange: back to Postiz for a new code. */
  const retry: VerifyAction = async (request, reply, fields) => {
    if (!fields.flow) throw new PageError('bad_request');
    return redirectToPostiz(reply, await flows.retry(fields.flow, request.cookies, callerOf(request, reply)));
  };

  /** The form's buttons (`action`), and what each does; a form without one is code entry. */
  const actions: Record<string, VerifyAction> = { lookup: showConfirmation, confirm, deny: cancel, retry };

  app.post('/device/verify', page, async (request, reply) => {
    const fields = formFields(request);
    browser.checkForm(request, fields._csrf);
    const action = Object.hasOwn(actions, fields.action ?? 'lookup')
      ? actions[fields.action ?? 'lookup']
      : undefined;
    if (!action) throw new PageError('bad_request');
    return action(request, reply, fields);
  });

  app.get('/device/callback', page, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const dest = request.headers['sec-fetch-dest'];
    const result = await flows.callback(
      {
        state: values(query.state),
        code: values(query.code),
        error: values(query.error),
        cookies: request.cookies,
        subresource: typeof dest === 'string' && dest !== 'document',
      },
      callerOf(request, reply),
    );
    const ctx = browser.context(request, reply);
    return sendPage(reply, 200, endingPage(ctx, result.outcome));
  });
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
  return sendPage(reply, err.statusCode, errorPage(ctx, err.reason, err.options));
}
