/** `/openapi.json`: OpenAPI 3.1, generated from the route schemas, for authors of other clients. */
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { errorBody, readiness } from './schemas.js';

/** Collect the routes registered after this (their schemas are the document). */
export async function describeApi(app: FastifyInstance, serverUrl: string): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Postiz CLI Auth Server',
        version: '1.0.0',
        description: 'OAuth 2.0 Device Authorization Grant (RFC 8628) for the postiz CLI.',
      },
      servers: [{ url: serverUrl }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addSchema(errorBody);
  app.addSchema(readiness);
}

/** The route serving the document. */
export function openApiRoute(app: FastifyInstance, document: () => unknown): void {
  app.get('/openapi.json', { schema: { hide: true } }, async () => document());
}
