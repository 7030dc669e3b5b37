/**
 * The one pino logger: JSON lines (or pretty for development), with serializers that keep
 * query strings, headers and bodies out of the log, and redaction as a second line of
 * defence for anything secret that a field might still carry.
 */
import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino } from 'pino';
import { clientAddress } from './device-flow/addresses.js';

/** Field paths that may never reach a log line. */
export const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.access_token',
  '*.accessToken',
  '*.device_code',
  '*.deviceCode',
  '*.user_code',
  '*.userCode',
  '*.state',
  '*.code',
  '*.code_verifier',
  '*.client_secret',
  '*.clientSecret',
  '*.cookie',
  '*.password',
];

export const LOG_SERIALIZERS = {
  req(request: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) {
    // Query strings carry user codes, OAuth codes and state: log the path only. The address
    // may come from a header a client wrote: only an IP address (zone id dropped) is logged.
    return {
      method: request.method,
      path: request.url.split('?')[0],
      ip: clientAddress(request.ip ?? request.socket?.remoteAddress ?? ''),
    };
  },
  res(reply: { statusCode: number }) {
    return { statusCode: reply.statusCode };
  },
  err: pino.stdSerializers.err,
};

export interface LoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Where lines go (tests capture them); default stdout. */
  destination?: DestinationStream;
}

/** Create the process's logger. */
export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    serializers: LOG_SERIALIZERS,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'postiz-cli-auth' },
  };
  if (options.format === 'pretty' && !options.destination) {
    // A stream in this thread rather than a worker transport: it is for a developer's terminal,
    // and it is loaded only when asked for (it stays out of the bundle, see scripts/build.mjs).
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    return pino(base, pretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}
