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

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * A request's logger until it writes: its methods live on the prototype, so a request that
 * writes nothing (a pending poll) allocates one small object instead of eight closures.
 */
class LazyLogger {
  #child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
    /** The level it was made at (the child's, once made, wins). */
    private readonly madeAt: string,
    /** Lines below this level's value are dropped without making the child. */
    private readonly threshold: number,
  ) {}

  private real(): Logger {
    this.#child ??= this.parent.child(this.bindings, this.options);
    return this.#child;
  }

  get level(): string {
    return this.#child?.level ?? this.madeAt;
  }

  set level(value: string) {
    this.real().level = value;
  }

  silent(): void {}

  child(more: Bindings, moreOptions?: ChildLoggerOptions): Logger {
    return this.real().child(more, moreOptions);
  }

  private write(name: Level, args: unknown[]): void {
    if ((this.parent.levels.values[name] ?? 0) < this.threshold) return;
    (this.real()[name] as (...a: unknown[]) => void)(...args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
}

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
  const level = options.level ?? parent.level;
  const threshold = parent.levels.values[level] ?? Number.POSITIVE_INFINITY;
  return new LazyLogger(parent, bindings, options, level, threshold) as unknown as FastifyBaseLogger;
}
