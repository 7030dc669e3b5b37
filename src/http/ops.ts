/** Operations and discovery: /health, /ready, /metrics, RFC 8414 metadata, static assets. */
import type { FastifyInstance } from 'fastify';
import { safeEqual } from '../device-flow/codes.js';
import type { NotificationState } from '../device-flow/pending-cache.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../storage/store.js';
import type { UpstreamStatus } from '../upstream/credentials.js';
import { buildInfo } from '../version.js';
import { ASSETS } from '../views/assets.js';
import { DEVICE_CODE_GRANT } from './poll.js';
import { healthSchema, metadataSchema, readySchema } from './schemas.js';

export function opsRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    metrics: Metrics;
    serverUrl: string;
    metricsToken: string | undefined;
    /** Whether flow changes are heard (LISTEN/NOTIFY), for /ready's details. */
    notifications: () => NotificationState;
    /**
     * Whether the provider answers and takes our credentials, for /ready's details under its
     * profile id: never a reason to be unready.
     */
    upstream: { id: string; status: () => UpstreamStatus };
    /** The grant types the token endpoint takes besides the device code's (`refresh_token`). */
    grantTypes?: readonly string[];
  },
): void {
  // Hot or noisy paths: no per-request info lines (they are counted in metrics).
  const quiet = { logLevel: 'warn' } as const;

  // Which build answers, so an operator can tell a rollout's instances apart.
  const { version, commit } = buildInfo();
  const health = { status: 'ok', version, commit };
  app.get('/health', { ...quiet, schema: healthSchema }, async () => health);

  app.get('/ready', { ...quiet, schema: readySchema }, async (request, reply) => {
    try {
      await deps.store.ping();
      // The provider being down, or refusing our credentials, makes logins fail, but taking
      // this instance out of rotation would not fix it: it is reported, not a reason to be unready.
      return {
        status: 'ready',
        database: deps.store.kind,
        notifications: deps.notifications(),
        [deps.upstream.id]: deps.upstream.status(),
      };
    } catch (err) {
      request.log.warn({ err }, 'readiness check: database unreachable');
      return reply.code(503).send({
        status: 'unavailable',
        database: deps.store.kind,
        notifications: deps.notifications(),
        [deps.upstream.id]: deps.upstream.status(),
      });
    }
  });

  // A person who opens the bare address wants the code-entry page. The location keeps the
  // browser's origin and carries SERVER_URL's path, so it holds behind a proxy that strips a
  // prefix, whether or not the address was typed with a trailing slash.
  const codeEntry = `${new URL(deps.serverUrl).pathname.replace(/\/+$/, '')}/device/verify`;
  app.get('/', { ...quiet, schema: { hide: true } }, async (_request, reply) =>
    reply.redirect(codeEntry, 303),
  );

  app.get('/metrics', { ...quiet, schema: { hide: true } }, async (request, reply) => {
    if (deps.metricsToken) {
      const given = Buffer.from(request.headers.authorization ?? '');
      if (!safeEqual(given, Buffer.from(`Bearer ${deps.metricsToken}`))) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
      }
    }
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  const metadata = {
    issuer: deps.serverUrl,
    device_authorization_endpoint: `${deps.serverUrl}/device/code`,
    token_endpoint: `${deps.serverUrl}/device/token`,
    grant_types_supported: [DEVICE_CODE_GRANT, ...(deps.grantTypes ?? [])],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['none'],
    service_documentation: `${deps.serverUrl}/openapi.json`,
  };
  app.get('/.well-known/oauth-authorization-server', { schema: metadataSchema }, async () => metadata);

  app.get('/assets/:name', { ...quiet, schema: { hide: true } }, async (request, reply) => {
    const asset = ASSETS.get((request.params as { name: string }).name);
    if (!asset) return reply.code(404).send({ error: 'not_found' });
    return reply
      .type(asset.type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(asset.body);
  });
}
