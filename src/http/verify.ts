/**
 * The browser's side of the flow: GET/POST /device/verify (code entry, confirmation, cancel,
 * retry) and GET /device/callback (the provider sends the browser back). Errors re-render a page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UNKNOWN_ADDRESS } from '../device-flow/addresses.js';
import type { BrowserLogin } from '../device-flow/browser-logins.js';
import { formatUserCode } from '../device-flow/codes.js';
import type { Authorization, FlowService, FoundFlow } from '../device-flow/flow-service.js';
import { PageError } from '../device-flow/page-error.js';
import { translator } from '../views/i18n/index.js';
import {
  confirmPage,
  endingPage,
  entryPage,
  type LoginDescription,
  type PageContext,
} from '../views/pages.js';
import { describeAge, describeUserAgent } from '../views/user-agent.js';
import { type Browser, sendPage } from './browser.js';
import type { CallerOf } from './caller.js';
import { pageStatus } from './page-errors.js';

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

  const redirectToProvider = (reply: FastifyReply, authorization: Authorization): FastifyReply => {
    const { flowId, value, maxAgeSeconds } = authorization.binding;
    browser.setCookie(reply, browser.bindingCookie(flowId), value, maxAgeSeconds);
    // 303: the browser follows with a GET, as an authorize page expects.
    return reply.header('cache-control', 'no-store').redirect(authorization.redirectTo, 303);
  };

  app.get('/device/verify', page, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const code = str(query.code)?.slice(0, 32);
    const ctx = browser.context(request, reply);
    return sendPage(reply, 200, entryPage(ctx, { code, fromLink: code !== undefined }));
  });

  /**
   * A login as the pages tell it: when (the page writes it in the reader's time zone), the
   * address, what the device said it is, and the organisation it was for.
   */
  const describeLogin = (login: BrowserLogin | undefined, ctx: PageContext): LoginDescription | undefined => {
    if (!login) return undefined;
    const t = translator(ctx.lang, ctx.profile);
    return {
      when: login.approvedAt,
      address: login.clientIp ?? t('confirm.address_unknown'),
      device: describeUserAgent(login.userAgent, t),
      organization: login.organization,
    };
  };

  /**
   * The confirmation page for `found`, as the flow service says this browser may confirm it
   * (blocked from another network: the refusal page instead).
   */
  const confirmation = async (
    request: FastifyRequest,
    reply: FastifyReply,
    found: FoundFlow,
    fields: Record<string, string | undefined>,
    mismatch = false,
  ): Promise<FastifyReply> => {
    const ctx = browser.context(request, reply);
    const t = translator(ctx.lang, ctx.profile);
    const fromLink = fields.source === 'link';
    const step = await flows.confirmation(
      found.flow,
      callerOf(request, reply),
      fromLink,
      request.cookies[browser.loginCookie],
    );
    const device = found.flow.clientIp ?? UNKNOWN_ADDRESS;
    return sendPage(
      reply,
      mismatch ? 400 : 200,
      confirmPage(ctx, {
        userCode: formatUserCode(found.userCode),
        device: describeUserAgent(found.flow.userAgent, t),
        address: device === UNKNOWN_ADDRESS ? undefined : device,
        requested: describeAge(found.flow.createdAt, now(), t),
        network: step.network,
        step: step.step,
        fromLink,
        replaces: describeLogin(step.replaces, ctx),
        mismatch,
        typed: mismatch ? fields.typed_code?.slice(0, 32) : undefined,
      }),
    );
  };

  /** Code entry: the confirmation page, or the entry page again with what was typed and why. */
  const showConfirmation: VerifyAction = async (request, reply, fields) => {
    const typed = fields.user_code?.slice(0, 32);
    let found: FoundFlow;
    try {
      found = await flows.enterCode(typed, callerOf(request, reply));
    } catch (err) {
      if (err instanceof PageError && (err.reason === 'invalid_code' || err.reason === 'rate_limited')) {
        const ctx = browser.context(request, reply);
        const options = {
          code: typed,
          error: err.reason,
          retryAfterSeconds: err.options.retryAfterSeconds,
          fromLink: fields.source === 'link',
        };
        if (err.options.retryAfterSeconds) reply.header('retry-after', String(err.options.retryAfterSeconds));
        return sendPage(reply, pageStatus(err), entryPage(ctx, options));
      }
      throw err;
    }
    return confirmation(request, reply, found, fields);
  };

  /** Continue on the confirmation page: to the provider's consent page (the typed code checked, when asked for). */
  const confirm: VerifyAction = async (request, reply, fields) => {
    const caller = callerOf(request, reply);
    const found = await flows.lookup(fields.user_code?.slice(0, 32), caller);
    try {
      const proof = { fromLink: fields.source === 'link', typed: fields.typed_code?.slice(0, 32) };
      return redirectToProvider(reply, await flows.confirm(found, caller, proof));
    } catch (err) {
      if (err instanceof PageError && err.reason === 'code_mismatch')
        return confirmation(request, reply, found, fields, true);
      throw err;
    }
  };

  /** Cancel on the confirmation page: the flow ends, and the CLI gets `access_denied`. */
  const cancel: VerifyAction = async (request, reply, fields) => {
    const found = await flows.lookup(fields.user_code?.slice(0, 32), callerOf(request, reply));
    await flows.cancel(found.flow, callerOf(request, reply));
    return sendPage(reply, 200, endingPage(browser.context(request, reply), 'cancelled'));
  };

  /** Try again, after the provider failed the exchange: back to it for a new code. */
  const retry: VerifyAction = async (request, reply, fields) => {
    if (!fields.flow) throw new PageError('bad_request');
    return redirectToProvider(
      reply,
      await flows.retry(fields.flow, browser.bindingsOf(request), callerOf(request, reply)),
    );
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
        bindingOf: browser.bindingsOf(request),
        loginSecret: request.cookies[browser.loginCookie],
        subresource: typeof dest === 'string' && dest !== 'document',
      },
      callerOf(request, reply),
    );
    const ctx = browser.context(request, reply);
    // The browser keeps the secret naming this login, so that its next confirmation page can
    // name the login approving may end; nobody else can.
    if (result.loginSecret) browser.rememberLogin(request, reply, result.loginSecret);
    return sendPage(
      reply,
      200,
      endingPage(ctx, result.outcome, {
        ...(result.refusal ? { refusal: result.refusal } : {}),
        organization: result.account,
        check: result.check,
        replaced: describeLogin(result.replaced, ctx),
      }),
    );
  });
}
