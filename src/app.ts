/**
 * `buildApp(config, deps)`: the whole HTTP application, without a process around it. Tests
 * call it with `app.inject`; `server.ts` adds listening, timers and signals.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyHttpOptions,
  type FastifyInstance,
} from 'fastify';
import type { Config } from './config.js';
import { type FlowEventName, type FlowObserver, FlowService } from './device-flow/flow-service.js';
import { createRateLimits } from './device-flow/rate-limits.js';
import {
  InvalidRequest,
  NotFound,
  OAuthError,
  PageError,
  PayloadTooLarge,
  TemporarilyUnavailable,
  toOAuthBody,
} from './errors.js';
import { Browser } from './http/browser.js';
import { deviceCodeRoute } from './http/device-code.js';
import { opsRoutes } from './http/ops.js';
import { errorBody, readiness } from './http/schemas.js';
import { tokenRoute } from './http/token.js';
import { renderPageError, verifyRoutes } from './http/verify.js';
import { createMetrics, type FlowOutcome, type Metrics } from './metrics.js';
import { createPostizClient, type PostizClient } from './postiz/client.js';
import { isDatabaseUnavailable } from './storage/errors.js';
import type { Store } from './storage/store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A browser route: errors re-render a page instead of JSON. */
    page?: boolean;
    /** Headers every answer of the route carries, errors included (routes without helmet). */
    headers?: Record<string, string>;
  }
}

export interface AppDeps {
  store: Store;
  /** Defaults to the real Postiz client built from `config`. */
  postiz?: PostizClient;
  /** Clock, for tests of expiry. */
  now?: () => number;
  /** The process's pino logger (`createLogger`); none when omitted. */
  logger?: FastifyBaseLogger;
}

export interface App {
  app: FastifyInstance;
  flows: FlowService;
  metrics: Metrics;
}

/** A client's `X-Request-Id` is kept only when it is a short token (it reaches the logs). */
const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** Largest request body accepted; a device flow never needs more than a few hundred bytes. */
export const BODY_LIMIT = 16 * 1024;

const FINAL_OUTCOMES: Partial<Record<FlowEventName, FlowOutcome>> = {
  delivered: 'delivered',
  denied: 'denied',
  cancelled: 'cancelled',
  expired: 'expired',
  failed: 'failed',
};

/** Build the application. */
export async function buildApp(config: Config, deps: AppDeps): Promise<App> {
  const now = deps.now ?? Date.now;
  const options: FastifyHttpOptions<Server> = {
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // Fastify ignores a bare number, so a hop count becomes "trust the nearest n hops".
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    bodyLimit: BODY_LIMIT,
    // A client's X-Request-Id reaches every log line of its request: only a short token is taken.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Slow clients (docs/security.md, "Denial of service"): the whole request must arrive within
    // requestTimeout, its headers within headersTimeout, and a connection with a request open may
    // stay silent for connectionTimeout (longer than any held poll). Node checks the first two
    // every connectionsCheckingInterval, 30 s by default: far too late for a trickling client.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs / 2),
    },
    // validateSchema: the route schemas are ours and tested; checking them against the
    // meta-schema means compiling it first, about 90 ms of every start-up (docs/performance.md).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, validateSchema: false } },
    // Keep answering on open connections while closing: a 503 body would make the postiz CLI give up.
    return503OnClosing: false,
  };
  const app = Fastify(options) as unknown as FastifyInstance;

  const metrics = createMetrics({
    countPending: () => deps.store.countPending(new Date(now())),
    countHeld: () => flows.view.held,
  });
  const troubleLoggedAt = new Map<string, number>();
  const observer: FlowObserver = {
    flowEvent(event, flowId, fields) {
      const line = { event: `flow.${event}`, flowId, ...fields };
      if (fields?.operatorError) {
        app.log.error(
          line,
          'Postiz refused this server (invalid_client or a bad request): check POSTIZ_OAUTH_CLIENT_ID, POSTIZ_OAUTH_CLIENT_SECRET and POSTIZ_API_URL',
        );
      } else if (
        event === 'failed' ||
        event === 'rejected_callback' ||
        (event === 'code_burned' && fields?.result === 'burned')
      ) {
        // A burned code was live: someone's authorization reached a callback that refused it.
        app.log.warn(line, `flow ${event}`);
      } else {
        app.log.info(line, `flow ${event}`);
      }
      if (event === 'started') metrics.flowsStarted.inc();
      if (event === 'code_burned') metrics.codesBurned.inc({ result: String(fields?.result) });
      const outcome = FINAL_OUTCOMES[event];
      if (outcome) metrics.flowsFinished.inc({ outcome });
    },
    trouble(message, err) {
      // An outage makes every request fail the same way: one line per kind every 10 s is enough.
      const last = troubleLoggedAt.get(message) ?? 0;
      if (Date.now() - last < 10_000) return;
      troubleLoggedAt.set(message, Date.now());
      app.log.warn({ err }, message);
    },
    rateLimited(route) {
      metrics.rateLimited.inc({ route });
    },
    notifications(state) {
      metrics.notificationsWorking.set(state === 'working' ? 1 : 0);
      if (state === 'lost') {
        app.log.warn(
          { notifications: state },
          'flow notifications sent through DATABASE_URL do not come back on the LISTEN connection: a connection pooler in transaction mode (PgBouncer, for one) drops LISTEN. Set DATABASE_DIRECT_URL to a direct connection to PostgreSQL. Meanwhile changes are noticed by re-checking every second.',
        );
      } else {
        app.log.info({ notifications: state }, 'flow notifications arrive');
      }
    },
    poll(result) {
      metrics.polls.inc({ result });
    },
  };
  const postiz =
    deps.postiz ??
    createPostizClient({
      apiUrl: config.postizApiUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      timeoutMs: config.upstreamTimeoutMs,
      onRequest(status, seconds) {
        metrics.upstreamRequests.inc({ status });
        metrics.upstreamDuration.observe(seconds);
      },
    });
  const flows = new FlowService({
    config,
    store: deps.store,
    postiz,
    limits: createRateLimits(deps.store, config),
    observer,
    now,
  });
  const secure = config.serverUrl.startsWith('https:');
  const postizOrigin = new URL(config.postizFrontendUrl).origin;
  const browser = new Browser({ serverUrl: config.serverUrl, secure });

  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT });
  await app.register(fastifyHelmet, {
    enableCSPNonces: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        baseUri: ["'none'"],
        // The confirmation form redirects to Postiz; form-action applies to that redirect.
        formAction: ["'self'", postizOrigin],
        frameAncestors: ["'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: secure ? { maxAge: 31536000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Postiz CLI Auth Server',
        version: '1.0.0',
        description: 'OAuth 2.0 Device Authorization Grant (RFC 8628) for the postiz CLI.',
      },
      servers: [{ url: config.serverUrl }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addSchema(errorBody);
  app.addSchema(readiness);

  // The postiz CLI sends `Content-Type: application/json` with no body at all (docs/postiz.md).
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (request, body, done) => {
      if (body === '') return done(null, undefined);
      defaultJson(request, body as string, done);
    },
  );

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler(async (error: FastifyError | OAuthError | PageError, request, reply) => {
    const isPage = request.routeOptions.config?.page === true;
    const routeHeaders = request.routeOptions.config?.headers;
    if (routeHeaders) reply.headers(routeHeaders);
    if (error instanceof PageError) return renderPageError(request, reply, browser, error);
    const oauth =
      error instanceof OAuthError
        ? error
        : isDatabaseUnavailable(error)
          ? new TemporarilyUnavailable('The database is unreachable; try again shortly')
          : clientError(error);
    if (!oauth) request.log.error({ err: error }, 'unhandled error');
    if (isPage) {
      const reason = !oauth || oauth instanceof TemporarilyUnavailable ? 'server_error' : 'bad_request';
      // Keep the status (413, 503, …): only the body becomes a page.
      const statusCode = oauth?.statusCode ?? 500;
      return renderPageError(request, reply, browser, new PageError(reason, { statusCode }));
    }
    const { statusCode, body, headers } = toOAuthBody(oauth ?? error);
    return reply.code(statusCode).headers(headers).header('cache-control', 'no-store').send(body);
  });

  app.setNotFoundHandler(async (_request, reply) => {
    const { statusCode, body } = toOAuthBody(new NotFound('No such endpoint'));
    return reply.code(statusCode).header('cache-control', 'no-store').send(body);
  });

  deviceCodeRoute(app, flows, { serverUrl: config.serverUrl, secure, formAction: `'self' ${postizOrigin}` });
  tokenRoute(
    app,
    flows,
    {
      apiUrl: config.postizApiUrl,
      defaultWaitSeconds: config.pollWaitSeconds,
      secure,
      formAction: `'self' ${postizOrigin}`,
    },
    (result) => observer.poll(result),
  );
  verifyRoutes(app, flows, browser, now);
  opsRoutes(app, {
    store: deps.store,
    notifications: () => flows.notifications,
    metrics,
    serverUrl: config.serverUrl,
    metricsToken: config.metricsToken,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Closing: held polls answer at once, in-flight requests finish, and every answer from now on
  // says `Connection: close`, so keep-alive clients reconnect elsewhere instead of being cut off.
  let closing = false;
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('preClose', async () => {
    closing = true;
    await flows.detach();
  });
  // The LISTEN connection's round trips and compiling the routes' schemas, side by side.
  await Promise.all([flows.attach(), app.ready()]);
  return { app, flows, metrics };
}

/** proxy-addr's function form of "trust the `hops` proxies nearest to us". */
function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

/** Fastify's own 4xx errors (bad JSON, wrong content type, too large, schema) as OAuth errors. */
function clientError(error: FastifyError): OAuthError | undefined {
  const status = error.statusCode ?? 500;
  if (status === 413) return new PayloadTooLarge('The request body is too large');
  if (error.validation) return new InvalidRequest(`Invalid request: ${error.message}`.slice(0, 200));
  if (status >= 400 && status < 500) return new InvalidRequest(error.message.slice(0, 200));
  return undefined;
}
