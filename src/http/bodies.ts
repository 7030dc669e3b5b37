/**
 * Request bodies: JSON (an empty one counts as none, as the CLI sends its start with
 * `Content-Type: application/json` and no body, docs/clients.md) and forms, both at most
 * `BODY_LIMIT` bytes.
 */
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';

/** Largest request body accepted; a device flow never needs more than a few hundred bytes. */
export const BODY_LIMIT = 16 * 1024;

/** Register the JSON and form parsers. */
export async function parseBodies(app: FastifyInstance): Promise<void> {
  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT });
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (request, body, done) => {
      if (body === '') return done(null, undefined);
      json(request, body as string, done);
    },
  );
}
