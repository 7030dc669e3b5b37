/**
 * POST /device/token through Fastify: the RFC 8628 form polls, and the JSON polls the fast path
 * does not take (chunked or large bodies), and `app.inject`. It only reads the request and
 * writes the answer; the answer is `answerPoll`'s (`http/poll.ts`), as on the fast path.
 */
import type { FastifyInstance } from 'fastify';
import type { CallerOf } from './caller.js';
import { answerPoll, connectionGone, type PollOptions, type PollResponse, settleToken } from './poll.js';
import { tokenSchema } from './schemas.js';

/**
 * The route. `onResult` counts each poll by its result. The body is checked by `answerPoll`,
 * not by Fastify's schema (kept for the OpenAPI document), so both paths refuse alike.
 */
export function tokenRoute(
  app: FastifyInstance,
  options: PollOptions & { jsonHeaders: Record<string, string>; callerOf: CallerOf },
  onResult: (result: string) => void,
): void {
  const { jsonHeaders, callerOf } = options;
  app.post(
    '/device/token',
    { schema: tokenSchema, validatorCompiler: () => () => true, logLevel: 'warn' },
    async (request, reply) => {
      const isForm = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
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
