/** Who is asking, as the flow service sees every request: one factory for every route. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientAddress } from '../device-flow/addresses.js';
import type { Caller } from '../device-flow/flow-service.js';
import { requestId } from './request-log.js';
import { remoteAddress, type TrustFunction } from './trust.js';

/**
 * A request's client address (an IP address or `unknown`, never header text), its id, and
 * whether its connection has closed. The address and the id are worked out when first read:
 * with `TRUST_PROXY` the address means parsing `X-Forwarded-For`, which a poll answered from
 * memory never needs (and a class, not closures: the poll's hot path makes one per request).
 */
export class RequestCaller implements Caller {
  #ip: string | undefined;
  #reqId: string | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly trust: TrustFunction,
    /** The id Fastify gave the request (so the one logged), if it went through Fastify. */
    private readonly id?: string,
  ) {}

  get ip(): string {
    this.#ip ??= clientAddress(remoteAddress(this.req, this.trust));
    return this.#ip;
  }

  get reqId(): string {
    this.#reqId ??= this.id ?? requestId(this.req);
    return this.#reqId;
  }

  get gone(): boolean {
    return this.res.destroyed || this.req.socket?.destroyed === true;
  }

  onGone(listener: () => void): () => void {
    // Before an answer is written, 'close' means the connection closed under the request.
    const onClose = () => listener();
    this.res.once('close', onClose);
    return () => this.res.off('close', onClose);
  }
}

/** The caller of a request Fastify routes, with the app's `TRUST_PROXY`. */
export type CallerOf = (request: FastifyRequest, reply: FastifyReply) => Caller;

/** The factory of callers for Fastify's routes. */
export function callerFactory(trust: TrustFunction): CallerOf {
  return (request, reply) => new RequestCaller(request.raw, reply.raw, trust, request.id);
}
