/**
 * The poll, answered by `node:http` itself before Fastify sees it. A pending flow's poll is
 * most of this server's traffic, and through Fastify it cost about three times a bare
 * `node:http` answer: the request and reply objects, hooks, a logger per request, schema
 * checks. Here it costs little more than the answer itself (docs/performance.md).
 *
 * Only what the CLI sends is taken: `POST /device/token` with a JSON body of known, small
 * length. Everything else (forms, chunked or large bodies, other routes) goes on to Fastify,
 * untouched. What is taken is answered exactly as the Fastify route would answer it: the same
 * reading (`pollDeviceCode`, `preferredWait`), the same flow (`FlowService.poll`, holds
 * included), the same writing (`pollResponse`), the same headers, metrics and logs
 * (test/http/poll-fast-path.test.ts compares the two, answer by answer).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { clientAddress } from '../device-flow/addresses.js';
import type { Caller, FlowService } from '../device-flow/flow-service.js';
import { InvalidRequest, OAuthError, PENDING, toOAuthBody } from '../errors.js';
import { requestId } from './request-log.js';
import { JSON_TYPE, type PollResponse, pollDeviceCode, pollResponse, preferredWait } from './token.js';
import { remoteAddress, type TrustFunction } from './trust.js';

/**
 * Bodies the fast path reads; a poll is under 100 bytes. Larger ones go to Fastify, which
 * answers up to its own limit (16 KiB) and refuses beyond it with 413.
 */
const MAX_BODY = 1024;

const INVALID_JSON = "Body is not valid JSON but content-type is set to 'application/json'";

export interface PollFastPathDeps {
  flows: FlowService;
  apiUrl: string;
  defaultWaitSeconds: number;
  jsonHeaders: Record<string, string>;
  trust: TrustFunction;
  /** Counts a poll by its result (`token` or the RFC error code). */
  onResult(result: string): void;
  /** Records a request's duration, as Fastify's requests are recorded. */
  onResponse(statusCode: number, seconds: number): void;
  /** Whether the server is closing (answers then say `Connection: close`). */
  closing(): boolean;
  log: FastifyBaseLogger;
}

/** A request handler that answers the polls it takes (true) and leaves the rest (false). */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/** What Fastify's schema says of a JSON poll body (`tokenSchema`), in Fastify's words. */
function schemaError(body: unknown): InvalidRequest | undefined {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    return new InvalidRequest('Invalid request: body must be object');
  }
  for (const name of ['device_code', 'grant_type', 'client_id'] as const) {
    const value = (body as Record<string, unknown>)[name];
    if (value !== undefined && typeof value !== 'string') {
      return new InvalidRequest(`Invalid request: body/${name} must be string`);
    }
  }
  return undefined;
}

/** A poll's headers: the JSON answers' fixed ones, the answer's own, its type and length. */
function headersOf(
  jsonHeaders: Record<string, string>,
  response: PollResponse,
): Record<string, string | number> {
  return {
    ...jsonHeaders,
    ...response.headers,
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(response.body),
  };
}

/**
 * Who polls, worked out only when asked: a poll answered from memory never needs the address
 * (with `TRUST_PROXY`, parsing `X-Forwarded-For`) nor the request id.
 */
class RequestCaller implements Caller {
  #ip: string | undefined;
  #reqId: string | undefined;
  constructor(
    private readonly req: IncomingMessage,
    private readonly trust: TrustFunction,
  ) {}
  get ip(): string {
    this.#ip ??= clientAddress(remoteAddress(this.req, this.trust));
    return this.#ip;
  }
  get reqId(): string {
    this.#reqId ??= requestId(this.req);
    return this.#reqId;
  }
}

/** Build the fast path. */
export function pollFastPath(deps: PollFastPathDeps): FastPath {
  const { flows, apiUrl, jsonHeaders } = deps;

  // The answer to nearly every poll, "still pending", with its headers built once.
  const pending = pollResponse(PENDING, apiUrl);
  const pendingHeaders = headersOf(jsonHeaders, pending);

  const write = (res: ServerResponse, response: PollResponse, started: number): void => {
    deps.onResult(response.result);
    const headers = response === pending ? pendingHeaders : headersOf(jsonHeaders, response);
    res.writeHead(response.statusCode, deps.closing() ? { ...headers, connection: 'close' } : headers);
    res.end(response.body);
    deps.onResponse(response.statusCode, (performance.now() - started) / 1000);
  };

  // What the Fastify route's error handler answers for a failure that is not an RFC error
  // (`toOAuthBody`: 500 server_error), the details in the log only.
  const fail = (res: ServerResponse, req: IncomingMessage, err: unknown, started: number): void => {
    deps.log.error({ err, reqId: requestId(req) }, 'unhandled error');
    const { statusCode, body, headers } = toOAuthBody(err);
    write(res, { statusCode, headers, body: JSON.stringify(body), result: 'server_error' }, started);
  };

  const answer = (req: IncomingMessage, res: ServerResponse, text: string, started: number): void => {
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Fastify's words for the same refusal.
      write(res, pollResponse(new InvalidRequest(INVALID_JSON), apiUrl), started);
      return;
    }
    let deviceCode: string;
    try {
      const invalid = schemaError(body);
      if (invalid) throw invalid;
      deviceCode = pollDeviceCode(body, false);
    } catch (err) {
      if (err instanceof OAuthError) write(res, pollResponse(err, apiUrl), started);
      else fail(res, req, err, started);
      return;
    }
    const caller = new RequestCaller(req, deps.trust);
    let polled: ReturnType<FlowService['poll']>;
    try {
      polled = flows.poll(deviceCode, caller, preferredWait(req.headers.prefer, deps.defaultWaitSeconds));
    } catch (err) {
      // Thrown in a stream's 'end' handler, it would never be answered (and escapes as uncaught).
      fail(res, req, err, started);
      return;
    }
    if (!(polled instanceof Promise)) {
      write(res, pollResponse(polled, apiUrl), started);
      return;
    }
    polled.then(
      (settled) => write(res, pollResponse(settled, apiUrl), started),
      (err: unknown) => fail(res, req, err, started),
    );
  };

  return (req, res) => {
    if (req.url !== '/device/token' || req.method !== 'POST') return false;
    const type = req.headers['content-type'];
    if (type !== 'application/json' && type !== JSON_TYPE) return false;
    const length = req.headers['content-length'];
    if (length === undefined || req.headers['transfer-encoding'] !== undefined) return false;
    const size = Number(length);
    if (!(Number.isInteger(size) && size >= 0 && size <= MAX_BODY)) return false;
    const started = performance.now();
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => answer(req, res, text, started));
    // An aborted request has no one to answer; node:http closes the socket.
    req.on('error', () => {});
    return true;
  };
}
