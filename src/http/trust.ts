/**
 * Which address a request comes from (`TRUST_PROXY`), worked out the way Fastify does
 * (`@fastify/proxy-addr`), so the routes Fastify serves and the poll it does not
 * (`http/poll-fast-path.ts`) agree.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { TrustProxy } from '../config.js';

/** Whether the `hop`-th address from us (0: the connection's) is a trusted proxy. */
export type TrustFunction = (address: string, hop: number) => boolean;

/**
 * The trust function for a `TRUST_PROXY` setting: none, all, the nearest `n` hops (Fastify
 * ignores a bare number, so a hop count becomes this function), or addresses and ranges.
 */
export function trustFunction(setting: TrustProxy): TrustFunction {
  if (setting === false) return () => false;
  if (setting === true) return () => true;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return proxyAddr.compile(setting);
}

/** The client's address: the nearest one not trusted (the connection's when no proxy is). */
export function remoteAddress(req: IncomingMessage, trust: TrustFunction): string {
  const addresses = proxyAddr.all(req, trust);
  return addresses[addresses.length - 1] ?? '';
}
