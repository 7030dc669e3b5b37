/**
 * Per-request logging: the request id every line of a request carries, and the child logger
 * that carries it, made only when a line is written.
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

/** A client's `X-Request-Id` is kept only when it is a short token (it reaches the logs). */
const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** The request's id: the client's (or its proxy's) `X-Request-Id` when it is a short token, else a UUID. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/**
 * Fastify's `childLoggerFactory`: a request's logger whose pino child (bindings serialized,
 * redaction set up) is made on the first line written at an enabled level. A pending poll
 * writes none, and making the child for it was a measurable share of its cost
 * (docs/performance.md).
 */
export function lazyChildLogger(
  this: unknown,
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  const parent = logger as unknown as Logger;
  let child: Logger | undefined;
  const real = (): Logger => {
    child ??= parent.child(bindings, options);
    return child;
  };
  const level = options.level ?? parent.level;
  const threshold = parent.levels.values[level] ?? Number.POSITIVE_INFINITY;
  const noop = () => {};
  const lazy = {
    get level() {
      return child?.level ?? level;
    },
    set level(value: string) {
      real().level = value;
    },
    silent: noop,
    child: (more: Bindings, moreOptions?: ChildLoggerOptions) => real().child(more, moreOptions),
  } as Record<string, unknown>;
  for (const name of LEVELS) {
    lazy[name] =
      (parent.levels.values[name] ?? 0) < threshold
        ? noop
        : (...args: unknown[]) => (real()[name] as (...a: unknown[]) => void)(...args);
  }
  return lazy as unknown as FastifyBaseLogger;
}
