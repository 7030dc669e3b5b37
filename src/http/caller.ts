/** Who is asking, as the flow service sees every request. */
import type { FastifyRequest } from 'fastify';
import { clientAddress } from '../device-flow/addresses.js';
import type { Caller } from '../device-flow/flow-service.js';

/** The request's client address (an IP address or `unknown`, never header text) and its id. */
export function callerOf(request: FastifyRequest): Caller {
  return { ip: clientAddress(request.ip), reqId: request.id };
}
