/**
 * A configured webhook URL as it is called, recorded and shown. Any part of it but the scheme,
 * host and port may hold the receiver's secret: credentials (`https://user:secret@host/…`), a
 * query-string key, or the path itself (Zapier's catch hooks). So `fetch` gets it without the
 * credentials, which travel as HTTP Basic instead (`fetch` refuses a URL holding them); the
 * outbox records the endpoint by a keyed hash of it; and logs, `last_error` and the start-up
 * line show only its origin and a short tag of that hash, which tells endpoints on one host
 * apart. Keyed (with `WEBHOOK_SECRET`), so that neither the tag in a log nor the hash in a copy
 * of the database lets anyone test guesses of a weak password or key in the URL.
 */
import { createHmac } from 'node:crypto';
import { hkdf32 } from '../device-flow/hkdf.js';

export interface Endpoint {
  /** What is fetched: the URL without credentials. */
  target: string;
  /** `Authorization: Basic …` for credentials in the URL. */
  authorization: string | undefined;
  /** What the outbox's `delivered_to` records: `endpointKey` of the URL. */
  key: string;
  /** For logs and `last_error`: the origin and the key's first 8 hex digits. */
  shown: string;
}

/** Hex digits of the key that `shown` carries: enough to tell a deployment's endpoints apart. */
const TAG_LENGTH = 8;

/** HKDF's `info` for the key of endpoint hashes (docs/deploy.md shows how to compute a tag). */
export const ENDPOINT_KEY_INFO = 'postiz-cli-auth webhook endpoint';

/**
 * The hex HMAC-SHA256 of `url` (as the settings normalised it) under a key derived from
 * `secret` (`WEBHOOK_SECRET`), which `delivered_to` records.
 */
export function endpointKey(url: string, secret: string): string {
  return createHmac('sha256', hkdf32(secret, ENDPOINT_KEY_INFO)).update(url, 'utf8').digest('hex');
}

/**
 * A key as `delivered_to` holds it: a URL written there by an instance of an earlier version
 * (during a rolling upgrade) reads as its key.
 */
export function asEndpointKey(entry: string, secret: string): string {
  return /^[0-9a-f]{64}$/.test(entry) ? entry : endpointKey(entry, secret);
}

/** How `url` (an http(s) URL, checked by the settings) is called, recorded and shown, under `secret`. */
export function endpoint(url: string, secret: string): Endpoint {
  const parsed = new URL(url);
  // The settings refuse credentials that do not decode (src/config.ts).
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const authorization =
    user || password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined;
  parsed.username = '';
  parsed.password = '';
  const key = endpointKey(url, secret);
  return { target: parsed.href, authorization, key, shown: `${parsed.origin} (${key.slice(0, TAG_LENGTH)})` };
}
