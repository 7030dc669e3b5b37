/**
 * `buildApp(config, deps)`: the whole HTTP application, without a process around it. Tests
 * call it with `app.inject`; `server.ts` adds listening, timers and signals. Each concern is
 * a module of its own, composed here:
 *
 * - the server's options (timeouts, proxies, request ids, loggers), below;
 * - request bodies (`http/bodies.ts`), errors (`http/errors.ts`), security headers
 *   (`http/security-headers.ts`), graceful closing (`http/shutdown.ts`), the OpenAPI document
 *   (`http/openapi.ts`), logs and metrics (`observability.ts`);
 * - the routes: the API (`http/device-code.ts`, `http/token.ts`), and in a scope of their own,
 *   with cookies and helmet's headers, the pages (`http/verify.ts`) and operations (`http/ops.ts`).
 */
import { createServer, type Server } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import Fastify, { type FastifyBaseLogger, type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { FlowService } from './device-flow/flow-service.js';
import { createRateLimits } from './device-flow/rate-limits.js';
import { BODY_LIMIT, parseBodies } from './http/bodies.js';
import { Browser } from './http/browser.js';
import { callerFactory } from './http/caller.js';
import { answerClientError } from './http/client-errors.js';
import { deviceCodeRoute } from './http/device-code.js';
import { handleErrors } from './http/error-handler.js';
import { describeApi, openApiRoute } from './http/openapi.js';
import { opsRoutes } from './http/ops.js';
import { type FastPath, pollFastPath } from './http/poll-fast-path.js';
import { lazyChildLogger, requestId } from './http/request-log.js';
import { helmetOptions, jsonHeaders } from './http/security-headers.js';
import { closeGracefully } from './http/shutdown.js';
import { tokenRoute } from './http/token.js';
import { type TrustFunction, trustFunction } from './http/trust.js';
import { verifyRoutes } from './http/verify.js';
import { createMetrics, type Metrics } from './metrics.js';
import { countRequests, createObserver } from './observability.js';
import type { Store } from './storage/store.js';
import {
  type CredentialsCheck,
  createCredentialsCheck,
  reportingCredentials,
  upstreamStatus,
} from './upstream/credentials.js';
import { createUpstream, type Upstream, upstreamWhere } from './upstream/index.js';
import { createReachabilityProbe, type ReachabilityProbe } from './upstream/reachability.js';
import { pageProfile } from './views/profile.js';
import type { WebhookSender, WebhookSenderOptions } from './webhooks/sender.js';
import { createWebhooks } from './webhooks/start.js';

export interface AppDeps {
  store: Store;
  /** The provider; defaults to the one `config` names (`src/upstream/`). */
  upstream?: Upstream;
  /**
   * Whether the provider can be reached, for /ready and the log. Defaults to a probe of its
   * `probeUrl` when it is the configured one, and to none (`unknown`) when `upstream` is given.
   */
  probe?: ReachabilityProbe;
  /**
   * Whether the provider accepts our client credentials, for /ready and the log. Defaults to a
   * junk-code exchange with the provider.
   */
  credentials?: CredentialsCheck;
  /** Clock, for tests of expiry. */
  now?: () => number;
  /** The process's pino logger (`createLogger`); none when omitted. */
  logger?: FastifyBaseLogger;
  /** Overrides of the webhook sender's options (tests: short retries). */
  webhooks?: Partial<WebhookSenderOptions>;
}

export interface App {
  app: FastifyInstance;
  flows: FlowService;
  metrics: Metrics;
  /** The poll's fast path, which the server's requests meet before Fastify (for tests of it alone). */
  fastPath: FastPath;
  /** The provider the flow bridges to. */
  upstream: Upstream;
  /** Whether the provider can be reached (none when the app was given its own provider). */
  probe: ReachabilityProbe | undefined;
  /** Whether the provider accepts this server's OAuth credentials (`server.ts` starts its checks). */
  credentials: CredentialsCheck;
  /** The webhook sender, running from build to close, when `WEBHOOK_URL` is set. */
  webhooks: WebhookSender | undefined;
}

/** Fastify keeps idle keep-alive connections this long (its default, kept): longer than load balancers' idle timeouts. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/**
 * Fastify's options: who the client is, how long it may take, what its requests log, and the
 * HTTP server, whose requests go to `fastPath` first (the poll, `http/poll-fast-path.ts`).
 */
function serverOptions(
  config: Config,
  logger: FastifyBaseLogger | undefined,
  trust: TrustFunction,
  fastPath: { handle: FastPath | undefined },
): FastifyHttpOptions<Server> {
  return {
    ...(logger ? { loggerInstance: logger, childLoggerFactory: lazyChildLogger } : { logger: false }),
    trustProxy: trust,
    bodyLimit: BODY_LIMIT,
    requestIdHeader: false,
    genReqId: requestId,
    // Slow clients (docs/security.md, "Denial of service"): the whole request must arrive within
    // requestTimeout, its headers within headersTimeout, and a connection with a request open may
    // stay silent for connectionTimeout (longer than any held poll). Node checks the first two
    // every connectionsCheckingInterval, 30 s by default: far too late for a trickling client.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    serverFactory: (handler) => {
      const server = createServer(
        {
          requestTimeout: config.requestTimeoutMs,
          headersTimeout: config.headersTimeoutMs,
          connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs / 2),
        },
        (req, res) => {
          if (!fastPath.handle?.(req, res)) handler(req, res);
        },
      );
      // What Fastify sets on a server it makes itself.
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      server.setTimeout(config.connectionTimeoutMs);
      return server;
    },
    // validateSchema: the route schemas are ours and tested; checking them against the
    // meta-schema means compiling it first, a large share of every start-up (docs/performance.md,
    // "Figures behind the code").
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, validateSchema: false } },
    // Keep answering on open connections while closing: a 503 body would make the postiz CLI give up.
    return503OnClosing: false,
    // Requests that cannot be read get their status and no body (a JSON error ends a CLI's login).
    clientErrorHandler: answerClientError,
  };
}

/** Build the application. */
export async function buildApp(config: Config, deps: AppDeps): Promise<App> {
  const now = deps.now ?? Date.now;
  const trust = trustFunction(config.trustProxy);
  const fastPath: { handle: FastPath | undefined } = { handle: undefined };
  const app = Fastify(serverOptions(config, deps.logger, trust, fastPath)) as unknown as FastifyInstance;

  const metrics = createMetrics({
    countPending: () => deps.store.countPending(new Date(now())),
    countHeld: () => flows.heldPolls,
    postizState: () => probe?.state() ?? 'unknown',
    credentialsState: () => credentials.state(),
    countOutbox: () => deps.store.countOutbox(),
  });
  // The credentials check has the provider without the exchange metrics: its junk codes are
  // not logins. Every real exchange tells it what the provider said of the credentials.
  const provider = deps.upstream ?? (await createUpstream(config));
  const settings = provider.credentialSettings.join(', ');
  const observer = createObserver(
    app.log,
    metrics,
    `${provider.names.provider} refused this server (invalid_client or a bad request): check ${settings} and ${upstreamWhere(config)}`,
  );
  const probe =
    deps.probe ??
    (deps.upstream
      ? undefined
      : createReachabilityProbe({
          url: provider.probeUrl,
          where: upstreamWhere(config),
          timeoutMs: Math.min(config.upstreamTimeoutMs, 5000),
          log: app.log,
        }));
  const credentials =
    deps.credentials ??
    createCredentialsCheck({
      upstream: provider,
      redirectUri: `${config.serverUrl}/device/callback`,
      log: app.log,
    });
  app.addHook('onClose', async () => {
    probe?.stop();
    credentials.stop();
  });
  const webhooks = createWebhooks(config, {
    store: deps.store,
    metrics,
    log: app.log,
    now,
    options: deps.webhooks,
  });
  if (webhooks) app.addHook('onClose', () => webhooks.stop());
  const upstream = reportingCredentials(
    deps.upstream ??
      (await createUpstream(config, (status, seconds) => {
        metrics.upstreamRequests.inc({ status });
        metrics.upstreamDuration.observe(seconds);
      })),
    credentials,
  );
  const flows = new FlowService({
    config,
    store: deps.store,
    upstream,
    limits: createRateLimits(deps.store, config),
    observer,
    now,
  });
  const headers = {
    secure: config.serverUrl.startsWith('https:'),
    authorizeOrigin: upstream.authorizeOrigin,
  };
  const json = jsonHeaders(headers);
  const browser = new Browser({
    serverUrl: config.serverUrl,
    secure: headers.secure,
    loginHistoryDays: config.loginHistoryDays,
    supportUrl: config.supportUrl,
    profile: pageProfile(upstream),
  });

  await parseBodies(app);
  await describeApi(app, { serverUrl: config.serverUrl, upstreamId: upstream.id, names: upstream.names });
  const observeRequest = countRequests(app, metrics);
  handleErrors(app, { browser, jsonHeaders: json });
  const closing = closeGracefully(app, flows);

  // The API: JSON with fixed headers, and no per-request hooks but the ones above.
  const callerOf = callerFactory(trust);
  deviceCodeRoute(app, flows, { serverUrl: config.serverUrl, jsonHeaders: json, callerOf });
  const polls = {
    flows,
    defaultWaitSeconds: config.pollWaitSeconds,
    jsonHeaders: json,
    log: app.log,
  };
  const onResult = (result: string) => observer.poll(result);
  tokenRoute(
    app,
    {
      ...polls,
      callerOf,
      answer: { schema: upstream.tokenAnswerSchema, refresh: upstream.refresh !== undefined },
    },
    onResult,
  );
  const answerPolls = pollFastPath({
    ...polls,
    trust,
    onResult,
    onResponse: (statusCode, seconds) => observeRequest('POST', '/device/token', statusCode, seconds),
    closing,
  });
  fastPath.handle = answerPolls;

  // Pages and operations, in their own scope: cookies, and helmet's headers with a nonce for
  // each page's script. The API's hot routes never run these hooks (docs/performance.md).
  await app.register(async (scope) => {
    await scope.register(fastifyCookie);
    await scope.register(fastifyHelmet, helmetOptions(headers));
    verifyRoutes(scope, flows, browser, now, callerOf);
    opsRoutes(scope, {
      store: deps.store,
      notifications: () => flows.notifications,
      upstream: {
        id: upstream.id,
        status: () => upstreamStatus(probe?.state() ?? 'unknown', credentials.state()),
      },
      metrics,
      serverUrl: config.serverUrl,
      metricsToken: config.metricsToken,
      // A profile that forwards refreshes takes the grant at the token endpoint; clients read it here.
      grantTypes: upstream.refresh ? ['refresh_token'] : [],
    });
    openApiRoute(scope, () => app.swagger());
  });

  // The LISTEN connection's round trips and compiling the routes' schemas, side by side.
  await Promise.all([flows.attach(), app.ready()]);
  // Webhooks go out in the background from now on (stopped on close, before the store closes).
  await webhooks?.start();
  return { app, flows, metrics, fastPath: answerPolls, upstream, probe, credentials, webhooks };
}
