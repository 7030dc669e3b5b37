/** POST /device/token: the poll (RFC 8628 §3.4–3.5), for the postiz CLI's JSON and RFC form requests. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isWellFormedDeviceCode } from '../device-flow/codes.js';
import type { FlowService } from '../device-flow/flow-service.js';
import { InvalidGrant, InvalidRequest, OAuthError, toOAuthBody, UnsupportedGrantType } from '../errors.js';
import { apiHeaders } from './api-headers.js';
import { callerOf } from './caller.js';
import { tokenSchema } from './schemas.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The device code of a well-formed poll, or the RFC error for a malformed one. */
export function parsePoll(request: FastifyRequest): string {
  const body = request.body as Record<string, unknown> | undefined | null;
  if (!body || typeof body !== 'object') throw new InvalidRequest('Send device_code as JSON or form-encoded');
  const isForm = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  const grantType = body.grant_type;
  // RFC 6749 §3.2: form requests are standard OAuth and must name their grant; the postiz CLI's JSON omits it.
  if (grantType === undefined && isForm) throw new InvalidRequest('grant_type is required');
  if (grantType !== undefined && grantType !== DEVICE_CODE_GRANT) {
    throw new UnsupportedGrantType(`Only ${DEVICE_CODE_GRANT} is supported`);
  }
  const deviceCode = body.device_code;
  if (deviceCode === undefined || deviceCode === '') throw new InvalidRequest('device_code is required');
  if (!isWellFormedDeviceCode(deviceCode)) throw new InvalidGrant('Unknown or already used device_code');
  return deviceCode;
}

/** The longest a client may ask a poll to be held (`Prefer: wait=N`). */
export const MAX_WAIT_SECONDS = 20;

/** RFC 7240 `Prefer: wait=N`, capped; `fallback` when the client does not ask. */
export function preferredWait(header: string | string[] | undefined, fallback: number): number {
  const value = Array.isArray(header) ? header.join(',') : header;
  const match = value?.match(/(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i);
  return match ? Math.min(Number(match[1]), MAX_WAIT_SECONDS) : fallback;
}

/** The route; `onResult` counts each poll by its result (`token` or the error code). */
export function tokenRoute(
  app: FastifyInstance,
  flows: FlowService,
  options: { apiUrl: string; defaultWaitSeconds: number; secure: boolean; formAction: string },
  onResult: (result: string) => void,
): void {
  const { apiUrl } = options;
  const headers = apiHeaders(options);
  // The hot path. Fixed headers instead of helmet's per-request CSP nonce work, and OAuth
  // errors sent from here rather than through Fastify's error machinery: both showed in the
  // profile. `config.headers` also reaches the app's error handler, for answers Fastify gives
  // before the handler runs (bad JSON, schema, 413).
  app.post(
    '/device/token',
    { schema: tokenSchema, logLevel: 'warn', helmet: false, config: { headers } },
    async (request, reply) => {
      reply.headers(headers);
      let token: Awaited<ReturnType<FlowService['poll']>>;
      try {
        const wait = preferredWait(request.headers.prefer, options.defaultWaitSeconds);
        token = await flows.poll(parsePoll(request), callerOf(request), wait);
      } catch (err) {
        if (!(err instanceof OAuthError)) {
          onResult('server_error');
          throw err;
        }
        onResult(err.error);
        const { statusCode, body, headers } = toOAuthBody(err);
        return reply.code(statusCode).headers(headers).send(body);
      }
      onResult('token');
      return {
        access_token: token.accessToken,
        token_type: 'bearer',
        api_url: apiUrl,
        organization_id: token.organizationId,
      };
    },
  );
}
