/** What a test reads of an app's metrics and logs: a Prometheus sample, Postiz's calls, captured log lines. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createLogger } from '../src/logger.js';
import { waitFor } from './postgres.js';

/**
 * The value of a Prometheus sample (`name{labels}`) on `/metrics`, 0 when absent: of an app
 * (over `app.inject`) or of a server process at a base URL.
 */
export async function metric(target: FastifyInstance | string, sample: string): Promise<number> {
  const text =
    typeof target === 'string'
      ? await (await fetch(`${target}/metrics`)).text()
      : (await target.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

/**
 * Resolves once `sample` reads `value` (polled every 10 ms): what tests wait on, instead of a
 * fixed sleep that would decide the assertion on a slow machine. Throws after `timeoutMs`.
 */
export async function metricReaches(
  target: FastifyInstance | string,
  sample: string,
  value: number,
  timeoutMs = 5000,
): Promise<void> {
  await waitFor(async () => (await metric(target, sample)) === value, { timeoutMs, intervalMs: 10 });
}

/** Requests the app has made to Postiz's token endpoint, whatever their answer. */
export async function upstreamCalls(app: FastifyInstance): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  return text
    .split('\n')
    .filter((l) => l.startsWith('postiz_cli_auth_upstream_requests_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** The product's logger (`createLogger`, serializers and redaction included), its lines kept: raw and parsed. */
export function captureLog(level = 'info'): {
  logger: Logger;
  raw: string[];
  lines: Record<string, unknown>[];
} {
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level,
    format: 'json',
    destination: {
      write: (chunk: string) => {
        raw.push(chunk);
        for (const line of chunk.split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      },
    },
  });
  return { logger, raw, lines };
}
