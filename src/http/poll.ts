/**
 * The poll (RFC 8628 §3.4–3.5) as one function: `answerPoll` takes what a request says (its
 * body, content type, `Prefer` header and caller) and returns the answer ready to write, or a
 * promise of one; it never throws. The Fastify route (`token.ts`) and the fast path that takes
 * the CLI's JSON polls before Fastify (`poll-fast-path.ts`) only read requests and write
 * answers (`writePoll`), so both answer alike by construction.
 *
 * Every answer is one the CLI handles as intended (docs/clients.md): the token, an RFC
 * error, or, when something went wrong on this side, a 503 without a JSON body, which it takes
 * as a reason to poll again rather than the end of the login.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { isWellFormedDeviceCode } from '../device-flow/codes.js';
import type { Caller, FlowService, IssuedToken, PollAnswer } from '../device-flow/flow-service.js';
import {
  InvalidGrant,
  InvalidRequest,
  OAuthError,
  PENDING,
  toOAuthBody,
  UnsupportedGrantType,
} from '../oauth-errors.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** The content type of every JSON answer. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/** The longest a client may ask a poll to be held (`Prefer: wait=N`). */
export const MAX_WAIT_SECONDS = 20;

/** A poll request, read: the device code, and whether the client speaks RFC 8628 (sent `grant_type`). */
export interface PollRequest {
  deviceCode: string;
  rfc: boolean;
}

/**
 * Read a poll body (`undefined`: none was sent): the device code and whether the client is an
 * RFC client, or the RFC error for a malformed one. `isForm`: the body came form-encoded.
 */
export function readPoll(body: unknown, isForm: boolean): PollRequest {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequest('Invalid request: body must be object');
  }
  const fields = body as Record<string, unknown>;
  for (const name of ['device_code', 'grant_type', 'client_id'] as const) {
    const value = fields[name];
    if (value !== undefined && typeof value !== 'string') {
      throw new InvalidRequest(`Invalid request: body/${name} must be string`);
    }
  }
  const grantType = fields.grant_type;
  // RFC 6749 §3.2: form requests are standard OAuth and must name their grant; the CLI's JSON omits it.
  if (grantType === undefined && isForm) throw new InvalidRequest('grant_type is required');
  if (grantType !== undefined && grantType !== DEVICE_CODE_GRANT) {
    throw new UnsupportedGrantType(`Only ${DEVICE_CODE_GRANT} is supported`);
  }
  const deviceCode = fields.device_code;
  if (deviceCode === undefined || deviceCode === '') throw new InvalidRequest('device_code is required');
  if (!isWellFormedDeviceCode(deviceCode)) throw new InvalidGrant('Unknown or already used device_code');
  return { deviceCode: deviceCode as string, rfc: grantType !== undefined };
}

/** RFC 7240 `Prefer: wait=N`, capped; `fallback` when the client does not ask. */
export function preferredWait(header: string | string[] | undefined, fallback: number): number {
  if (header === undefined) return fallback;
  const value = Array.isArray(header) ? header.join(',') : header;
  const match = value.match(/(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i);
  return match ? Math.min(Number(match[1]), MAX_WAIT_SECONDS) : fallback;
}

/** An answer ready to write: status, extra headers (`Retry-After`), the body, and its result for metrics. */
export interface PollResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** The body's content type. */
  contentType: string;
  /** `token`, the RFC error code, or `try_again`. */
  result: string;
  /** The token this answer carries: told whether the answer was written (`IssuedToken.settle`). */
  token?: IssuedToken;
}

/** The most common answer, serialized once. */
export const PENDING_RESPONSE: PollResponse = {
  statusCode: 400,
  headers: {},
  body: JSON.stringify(toOAuthBody(PENDING).body),
  contentType: JSON_TYPE,
  result: PENDING.error,
};

/**
 * What a poll answers when something failed on this side (a bug, never an RFC answer): 503,
 * poll again in a second, and no JSON body, because the CLI ends its login on any JSON
 * error but two and polls again on a body it cannot read (docs/clients.md).
 */
export const TRY_AGAIN: PollResponse = {
  statusCode: 503,
  headers: { 'retry-after': '1' },
  body: '',
  contentType: 'text/plain; charset=utf-8',
  result: 'try_again',
};

/** Serialize a poll's answer (RFC 6749 §5.1 for the token, §5.2 / RFC 8628 §3.5 for errors). */
export function pollResponse(answer: PollAnswer): PollResponse {
  if (answer === PENDING) return PENDING_RESPONSE;
  if (answer instanceof OAuthError) {
    const { statusCode, body, headers } = toOAuthBody(answer);
    return { statusCode, headers, body: JSON.stringify(body), contentType: JSON_TYPE, result: answer.error };
  }
  return {
    statusCode: 200,
    headers: {},
    // The provider's profile writes the fields (`Upstream.tokenAnswer`); undefined ones are
    // left out (JSON.stringify drops them).
    body: JSON.stringify(answer.fields),
    contentType: JSON_TYPE,
    result: 'token',
    token: answer,
  };
}

export interface PollOptions {
  flows: FlowService;
  defaultWaitSeconds: number;
  log: FastifyBaseLogger;
}

/** What a poll request says: its parsed body, whether that was a form, its `Prefer` header, who sent it. */
export interface PollParts {
  body: unknown;
  isForm: boolean;
  prefer: string | string[] | undefined;
  caller: Caller;
}

/**
 * The answer to a poll, ready to write, or a promise of one; never throws or rejects. Most
 * polls (still pending, from memory) are answered synchronously, without a promise.
 */
export function answerPoll(options: PollOptions, parts: PollParts): PollResponse | Promise<PollResponse> {
  const { flows } = options;
  const failed = (err: unknown): PollResponse => {
    if (err instanceof OAuthError) return pollResponse(err);
    options.log.error({ err, reqId: parts.caller.reqId }, 'unhandled error in a poll');
    return TRY_AGAIN;
  };
  try {
    const { deviceCode, rfc } = readPoll(parts.body, parts.isForm);
    const wait = preferredWait(parts.prefer, options.defaultWaitSeconds);
    const answer = flows.poll(deviceCode, parts.caller, wait, rfc);
    if (!(answer instanceof Promise)) return pollResponse(answer);
    return answer.then((settled) => pollResponse(settled), failed);
  } catch (err) {
    return failed(err);
  }
}

/**
 * After writing an answer on `res`: a token it carries is settled once the answer is handed to
 * the connection (`finish`), or given back if the connection closes first. An answer whose
 * client has gone already is not written at all (`writePoll` returns false then).
 */
export function settleToken(res: ServerResponse, token: IssuedToken): void {
  let finished = false;
  res.once('finish', () => {
    finished = true;
    void token.settle(true);
  });
  res.once('close', () => {
    if (!finished) void token.settle(false);
  });
}

/** Whether the connection `res` answers on has closed (the client went while the answer was being made). */
export function connectionGone(res: ServerResponse): boolean {
  return res.destroyed || res.socket?.destroyed === true;
}
