/** `/openapi.json`: OpenAPI 3.1, generated from the route schemas, for authors of other clients. */
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { errorBody, readiness } from './schemas.js';

/** What the document says of the server: its URL, and the provider and client it logs in. */
export interface ApiDescription {
  serverUrl: string;
  /** The provider's profile id (names its /ready field). */
  upstreamId: string;
  /** The provider and client, as pages name them. */
  names: { provider: string; client: string };
}

/** Collect the routes registered after this (their schemas are the document). */
export async function describeApi(app: FastifyInstance, api: ApiDescription): Promise<void> {
  const { serverUrl, names } = api;
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `${names.client} Auth Server`,
        version: '1.0.0',
        description: `OAuth 2.0 Device Authorization Grant (RFC 8628) for the ${names.client}, logging in at ${names.provider}.`,
      },
      servers: [{ url: serverUrl }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addSchema(errorBody);
  app.addSchema(readiness(api.upstreamId));
}

/** The route serving the document. */
export function openApiRoute(app: FastifyInstance, document: () => unknown): void {
  app.get('/openapi.json', { schema: { hide: true } }, async () => document());
}
