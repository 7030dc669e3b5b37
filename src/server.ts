/**
 * The process around the app: open the store, migrate, build, listen, purge expired flows on a
 * timer, and shut down gracefully on SIGTERM/SIGINT.
 */
import type { Logger } from 'pino';
import type { App } from './app.js';
import type { Config } from './config.js';
import { describeListenError } from './listen-errors.js';
import { openStore } from './storage/open.js';
import type { Store } from './storage/store.js';
import { CREDENTIALS_CHECK_EVERY_MS } from './upstream/credentials.js';
import type { Upstream } from './upstream/upstream.js';

export interface RunningServer extends App {
  store: Store;
  url: string;
  /** Stop accepting, finish in-flight requests, close the store. Idempotent. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** Use this store instead of opening one from the config. */
  store?: Store;
  /** Use this provider instead of the one the config names. */
  upstream?: Upstream;
  /** Install SIGTERM/SIGINT handlers that close the server and exit (the real process only). */
  handleSignals?: boolean;
}

const PROBE_EVERY_MS = 60_000;

/** Start a server for `config`; resolves once it listens. */
export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  // Opening the database is mostly waiting (PGlite's WASM compiling off this thread, or
  // PostgreSQL's round trips): load the app's modules meanwhile (docs/performance.md, start-up).
  const opened = (async () => {
    const store = options.store ?? (await openStore(config, logger));
    try {
      return { store, applied: await store.migrate() };
    } catch (err) {
      if (!options.store) await store.close().catch(() => {});
      throw err;
    }
  })();
  const [{ store, applied }, { buildApp }] = await Promise.all([opened, import('./app.js')]);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

  const built = await buildApp(config, { store, upstream: options.upstream, logger });
  const { app, flows } = built;
  try {
    await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
  } catch (err) {
    await app.close().catch(() => {});
    if (!options.store) await store.close().catch(() => {});
    throw new Error(describeListenError(err, config.host, config.port), { cause: err });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}`;

  // The provider checked now and every minute: an operator hears it is unreachable before a user does.
  built.probe?.start(PROBE_EVERY_MS);
  // Wrong OAuth credentials found now and every 5 minutes, without a user's login.
  built.credentials.start(CREDENTIALS_CHECK_EVERY_MS);

  // Several instances purging at once is harmless: each DELETE takes what is left.
  const purge = setInterval(() => {
    flows.purge().then(
      (n) => n > 0 && logger.info({ purged: n }, 'expired flows purged'),
      (err) => {
        built.metrics.databaseErrors.inc({ kind: 'purge' });
        logger.warn({ err }, 'purge failed; will retry');
      },
    );
  }, config.purgeIntervalSeconds * 1000);
  purge.unref();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(purge);
      built.probe?.stop();
      built.credentials.stop();
      const deadline = setTimeout(() => {
        logger.warn('shutdown timeout: closing remaining connections');
        app.server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      deadline.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(deadline);
        if (!options.store) await store.close();
      }
    })();
    return closing;
  };

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      close().then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  logger.info({ url, publicUrl: config.serverUrl, database: store.kind }, 'listening');
  return { ...built, store, url, close };
}
