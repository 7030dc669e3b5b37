/**
 * Postiz's public API, as far as the server and the postiz CLI use it (docs/postiz.md, "The
 * access token"): the token goes raw in `Authorization`; an organisation without a
 * subscription is refused as Postiz's public auth middleware refuses it where billing is on.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PostizState } from './state.js';

/** A failure the next public API call(s) answer with: an error, a refusal, or no answer at all. */
export type StandInPublicFault = 'server-error' | 'forbidden' | 'hang';

/** A connected channel of the organisation, as Postiz's public API lists it. */
export interface StandInIntegration {
  id: string;
  name: string;
  identifier: string;
  picture: string;
  disabled: boolean;
  profile: string;
  customer: { id: string; name: string } | null;
}

/** Register the public API routes. */
export function publicApiRoutes(
  app: FastifyInstance,
  postiz: PostizState,
  integrations: StandInIntegration[],
  nextFault: () => StandInPublicFault | undefined,
  hanging: Set<ServerResponse>,
): void {
  /**
   * The public API's authentication: the token raw in `Authorization`; with a "Bearer " prefix
   * it is looked up as an API key and fails. Answers 401 (and returns false) when it fails.
   */
  function authenticated(authorization: string | undefined, reply: FastifyReply): boolean {
    const organization = authorization ? postiz.tokenOrganization(authorization) : undefined;
    const refusal = !authorization
      ? 'No API Key found'
      : !authorization.startsWith('pos_')
        ? 'Invalid API key'
        : !organization
          ? 'Invalid OAuth token'
          : organization.subscribed === false
            ? 'No subscription found'
            : undefined;
    if (refusal) reply.code(401).send({ msg: refusal });
    return refusal === undefined;
  }

  /** Answer with the next queued fault, if any: true when it did. */
  function faulted(reply: FastifyReply): boolean {
    const fault = nextFault();
    if (!fault) return false;
    if (fault === 'server-error') {
      reply.code(500).send({ statusCode: 500, message: 'Internal server error' });
      return true;
    }
    if (fault === 'forbidden') {
      reply.code(403).send({ statusCode: 403, message: 'Forbidden resource', error: 'Forbidden' });
      return true;
    }
    reply.hijack();
    hanging.add(reply.raw);
    reply.raw.once('close', () => hanging.delete(reply.raw));
    return true;
  }

  app.get('/public/v1/is-connected', async (request, reply) => {
    if (faulted(reply) || !authenticated(request.headers.authorization, reply)) return reply;
    return reply.send({ connected: true });
  });

  // What `postiz auth:status` asks to check its credentials: the organisation's channels.
  app.get('/public/v1/integrations', async (request, reply) => {
    if (faulted(reply) || !authenticated(request.headers.authorization, reply)) return reply;
    return reply.send(integrations);
  });
}
