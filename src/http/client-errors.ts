/**
 * Requests that cannot be read (sent too slowly, malformed at the HTTP level, headers too
 * large) are answered by the server, not by a route: the status and no body. Fastify's own
 * answer there is a JSON body with an `error` field, and the CLI ends its login on any
 * JSON `error` but `authorization_pending` and `expired_token`, while it polls again on a body
 * it cannot read (docs/clients.md). A herd of CLIs coming back at once must never be told "the
 * end" by a timeout.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** The status for a client error from Node's HTTP server. */
function statusOf(err: NodeJS.ErrnoException): number {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (err.code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

/**
 * How long a connection may stay open once its answer is sent: `end()` closes only our side,
 * and a client that never reads (so never sees that) and keeps writing would hold it for ever
 * (docs/security.md, "Denial of service").
 */
export const CLOSE_GRACE_MS = 2000;

/** Fastify's `clientErrorHandler`: answer with the status alone, then close, for good within `CLOSE_GRACE_MS`. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection, or one already answered or closing, has no one left to tell.
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = statusOf(err);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  const cut = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}
