/**
 * POST /device/token: the poll (RFC 8628 §3.4–3.5), for the postiz CLI's JSON and RFC form
 * requests. Reading a poll (`pollDeviceCode`, `preferredWait`) and writing its answer
 * (`pollResponse`) are pure functions shared by this Fastify route and the fast path that
 * answers JSON polls before Fastify sees them (`http/poll-fast-path.ts`), so both answer alike.
 */
import type { FastifyInstance } from 'fastify';
import { isWellFormedDeviceCode } from '../device-flow/codes.js';
import type { FlowService, PollAnswer } from '../device-flow/flow-service.js';
import {
  InvalidGrant,
  InvalidRequest,
  OAuthError,
  PENDING,
  toOAuthBody,
  UnsupportedGrantType,
} from '../errors.js';
import { callerOf } from './caller.js';
import { tokenSchema } from './schemas.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The content type of every JSON answer. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The device code of a well-formed poll body (`undefined`: none was sent), or the RFC error
 * for a malformed one. `isForm`: the body came form-encoded.
 */
export function pollDeviceCode(body: unknown, isForm: boolean): string {
  if (!body || typeof body !== 'object') throw new InvalidRequest('Send device_code as JSON or form-encoded');
  const fields = body as Record<string, unknown>;
  const grantType = fields.grant_type;
  // RFC 6749 §3.2: form requests are standard OAuth and must name their grant; the postiz CLI's JSON omits it.
  if (grantType === undefined && isForm) throw new InvalidRequest('grant_type is required');
  if (grantType !== undefined && grantType !== DEVICE_CODE_GRANT) {
    throw new UnsupportedGrantType(`Only ${DEVICE_CODE_GRANT} is supported`);
  }
  const deviceCode = fields.device_code;
  if (deviceCode === undefined || deviceCode === '') throw new InvalidRequest('device_code is required');
  if (!isWellFormedDeviceCode(deviceCode)) throw new InvalidGrant('Unknown or already used device_code');
  return deviceCode;
}

/** The longest a client may ask a poll to be held (`Prefer: wait=N`). */
export const MAX_WAIT_SECONDS = 20;

/** RFC 7240 `Prefer: wait=N`, capped; `fallback` when the client does not ask. */
export function preferredWait(header: string | string[] | undefined, fallback: number): number {
  if (header === undefined) return fallback;
  const value = Array.isArray(header) ? header.join(',') : header;
  const match = value.match(/(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i);
  return match ? Math.min(Number(match[1]), MAX_WAIT_SECONDS) : fallback;
}

/** An answer ready to write: status, extra headers (`Retry-After`), the JSON text, and its result for metrics. */
export interface PollResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** `token`, or the RFC error code. */
  result: string;
}

/** The most common answer, serialized once. */
const PENDING_RESPONSE: PollResponse = {
  statusCode: 400,
  headers: {},
  body: JSON.stringify(toOAuthBody(PENDING).body),
  result: PENDING.error,
};

/** Serialize a poll's answer (RFC 6749 §5.1 for the token, §5.2 / RFC 8628 §3.5 for errors). */
export function pollResponse(answer: PollAnswer, apiUrl: string): PollResponse {
  if (answer === PENDING) return PENDING_RESPONSE;
  if (answer instanceof OAuthError) {
    const { statusCode, body, headers } = toOAuthBody(answer);
    return { statusCode, headers, body: JSON.stringify(body), result: answer.error };
  }
  return {
    statusCode: 200,
    headers: {},
    // organization_id is left out when Postiz gave none (JSON.stringify drops undefined).
    body: JSON.stringify({
      access_token: answer.accessToken,
      token_type: 'bearer',
      api_url: apiUrl,
      organization_id: answer.organizationId,
    }),
    result: 'token',
  };
}

/**
 * The route, for what the fast path leaves to Fastify (forms, and JSON it does not take:
 * chunked or large bodies) and for `app.inject`. `onResult` counts each poll by its result.
 * RFC answers are written here, not through Fastify's error machinery (it showed in the profile).
 */
export function tokenRoute(
  app: FastifyInstance,
  flows: FlowService,
  options: { apiUrl: string; defaultWaitSeconds: number; jsonHeaders: Record<string, string> },
  onResult: (result: string) => void,
): void {
  const { apiUrl, jsonHeaders } = options;
  app.post('/device/token', { schema: tokenSchema, logLevel: 'warn' }, async (request, reply) => {
    reply.headers(jsonHeaders);
    let answer: PollAnswer;
    try {
      const isForm = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const deviceCode = pollDeviceCode(request.body, isForm);
      const wait = preferredWait(request.headers.prefer, options.defaultWaitSeconds);
      answer = await flows.poll(deviceCode, callerOf(request), wait);
    } catch (err) {
      if (!(err instanceof OAuthError)) {
        onResult('server_error');
        throw err;
      }
      answer = err;
    }
    const response = pollResponse(answer, apiUrl);
    onResult(response.result);
    return reply.code(response.statusCode).headers(response.headers).type(JSON_TYPE).send(response.body);
  });
}
