/**
 * The poll, answered by `node:http` itself before Fastify sees it. A pending flow's poll is
 * most of this server's traffic, and through Fastify it cost about three times a bare
 * `node:http` answer: the request and reply objects, hooks, a logger per request, schema
 * checks. Here it costs little more than the answer itself (docs/performance.md).
 *
 * Only what the CLI sends is taken: `POST /device/token` with a JSON body of known, small
 * length. Everything else (forms, chunked or large bodies, other routes) goes on to Fastify,
 * untouched. What is taken is answered by the same function as the Fastify route
 * (`answerPoll`, `http/poll.ts`); this module only reads the body and writes the answer, with
 * the same headers, metrics and logs (test/http/poll-fast-path.test.ts compares the two).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidRequest } from '../oauth-errors.js';
import { RequestCaller } from './caller.js';
import {
  answerPoll,
  connectionGone,
  JSON_TYPE,
  PENDING_RESPONSE,
  type PollOptions,
  type PollResponse,
  pollResponse,
  settleToken,
} from './poll.js';
import type { TrustFunction } from './trust.js';

/**
 * Bodies the fast path reads; a poll is under 100 bytes. Larger ones go to Fastify, which
 * answers up to its own limit (16 KiB) and refuses beyond it with 413.
 */
const MAX_BODY = 1024;

/** Fastify's words for a JSON body that does not parse. */
const INVALID_JSON = "Body is not valid JSON but content-type is set to 'application/json'";

export interface PollFastPathDeps extends PollOptions {
  jsonHeaders: Record<string, string>;
  trust: TrustFunction;
  /** Counts a poll by its result (`token`, the RFC error code, or `try_again`). */
  onResult(result: string): void;
  /** Records a request's duration, as Fastify's requests are recorded. */
  onResponse(statusCode: number, seconds: number): void;
  /** Whether the server is closing (answers then say `Connection: close`). */
  closing(): boolean;
}

/** A request handler that answers the polls it takes (true) and leaves the rest (false). */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/** A poll's headers: the JSON answers' fixed ones, the answer's own, its type and length. */
function headersOf(
  jsonHeaders: Record<string, string>,
  response: PollResponse,
): Record<string, string | number> {
  return {
    ...jsonHeaders,
    ...response.headers,
    'content-type': response.contentType,
    'content-length': Buffer.byteLength(response.body),
  };
}

/** Build the fast path. */
export function pollFastPath(deps: PollFastPathDeps): FastPath {
  const { jsonHeaders } = deps;

  // The answer to nearly every poll, "still pending", with its headers built once.
  const pendingHeaders = headersOf(jsonHeaders, PENDING_RESPONSE);
  const invalidJson = pollResponse(new InvalidRequest(INVALID_JSON));

  const write = (res: ServerResponse, response: PollResponse, started: number): void => {
    deps.onResult(response.result);
    if (response.token) {
      if (connectionGone(res)) {
        void response.token.settle(false);
        return;
      }
      settleToken(res, response.token);
    }
    const headers = response === PENDING_RESPONSE ? pendingHeaders : headersOf(jsonHeaders, response);
    res.writeHead(response.statusCode, deps.closing() ? { ...headers, connection: 'close' } : headers);
    res.end(response.body);
    deps.onResponse(response.statusCode, (performance.now() - started) / 1000);
  };

  const answer = (req: IncomingMessage, res: ServerResponse, text: string, started: number): void => {
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      write(res, invalidJson, started);
      return;
    }
    const answered = answerPoll(deps, {
      body,
      isForm: false,
      prefer: req.headers.prefer,
      caller: new RequestCaller(req, res, deps.trust),
    });
    if (answered instanceof Promise) answered.then((response) => write(res, response, started));
    else write(res, answered, started);
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
