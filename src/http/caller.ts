/** Who is asking, as the flow service sees every request. */
import type { FastifyRequest } from 'fastify';
import { clientAddress } from '../device-flow/addresses.js';
import type { Caller } from '../device-flow/flow-service.js';

/**
 * The request's client address (an IP address or `unknown`, never header text) and its id.
 * The address is worked out when first read: with `TRUST_PROXY` that means parsing
 * `X-Forwarded-For`, which a poll answered from memory never needs.
 */
export function callerOf(request: FastifyRequest): Caller {
  let ip: string | undefined;
  return {
    get ip() {
      ip ??= clientAddress(request.ip);
      return ip;
    },
    reqId: request.id,
  };
}
