/**
 * POST /device/token through Fastify: the RFC 8628 form polls, and the JSON polls the fast path
 * does not take (chunked or large bodies), and `app.inject`. It only reads the request and
 * writes the answer; the answer is `answerPoll`'s (`http/poll.ts`), as on the fast path. A form
 * with `grant_type=refresh_token` is a refresh, forwarded to the provider (`FlowService.refresh`)
 * when it issues refresh tokens.
 */
import type { FastifyInstance } from 'fastify';
import { InvalidRequest, OAuthError, toOAuthBody } from '../oauth-errors.js';
import type { TokenAnswerSchema } from '../upstream/upstream.js';
import type { CallerOf } from './caller.js';
import {
  answerPoll,
  connectionGone,
  JSON_TYPE,
  type PollOptions,
  type PollResponse,
  settleToken,
} from './poll.js';
import { tokenSchema } from './schemas.js';

/**
 * The route. `onResult` counts each poll by its result. The body is checked by `answerPoll`,
 * not by Fastify's schema (kept for the OpenAPI document), so both paths refuse alike.
 */
export function tokenRoute(
  app: FastifyInstance,
  options: PollOptions & {
    jsonHeaders: Record<string, string>;
    callerOf: CallerOf;
    /** The profile's token answer and whether it forwards refreshes, for the OpenAPI document. */
    answer: { schema: TokenAnswerSchema; refresh: boolean };
  },
  onResult: (result: string) => void,
): void {
  const { jsonHeaders, callerOf } = options;
  app.post(
    '/device/token',
    {
      schema: tokenSchema(options.answer.schema, options.answer.refresh),
      validatorCompiler: () => () => true,
      logLevel: 'warn',
    },
    async (request, reply) => {
      const isForm = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const fields = request.body as Record<string, unknown> | undefined;
      if (isForm && fields?.grant_type === 'refresh_token') {
        const answer = await refresh(options, fields, callerOf(request, reply));
        // Serialized here, as a poll's answer is: the route's response schema describes the
        // device code's answer, and would drop the provider's fields (or fail on them).
        return reply
          .code(answer.statusCode)
          .headers(jsonHeaders)
          .headers(answer.headers)
          .type(JSON_TYPE)
          .send(JSON.stringify(answer.body));
      }
      const response: PollResponse = await answerPoll(options, {
        body: request.body,
        isForm,
        prefer: request.headers.prefer,
        caller: callerOf(request, reply),
      });
      onResult(response.result);
      if (response.token) {
        // Nobody to hand the token to: it goes back for the client's next poll.
        if (connectionGone(reply.raw)) {
          await response.token.settle(false);
          return reply.hijack();
        }
        settleToken(reply.raw, response.token);
      }
      return reply
        .code(response.statusCode)
        .headers(jsonHeaders)
        .headers(response.headers)
        .type(response.contentType)
        .send(response.body);
    },
  );
}

/** A refresh (RFC 6749 §6): the provider's answer, or the error that kept it from being asked. */
async function refresh(
  options: PollOptions,
  fields: Record<string, unknown>,
  caller: ReturnType<CallerOf>,
): Promise<{ statusCode: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  try {
    const refreshToken = fields.refresh_token;
    const scope = fields.scope;
    if (typeof refreshToken !== 'string' || refreshToken === '' || refreshToken.length > 16_384)
      throw new InvalidRequest('refresh_token is required');
    if (scope !== undefined && typeof scope !== 'string') throw new InvalidRequest('scope must be a string');
    const answer = await options.flows.refresh({ refreshToken, ...(scope ? { scope } : {}) }, caller);
    return { statusCode: answer.status, body: answer.body, headers: {} };
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    const { statusCode, body, headers } = toOAuthBody(err);
    return { statusCode, body: body as unknown as Record<string, unknown>, headers };
  }
}
