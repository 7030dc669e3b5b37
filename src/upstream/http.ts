/**
 * One request to the provider, as every profile makes it: within a timeout, never following a
 * redirect (the client secret, a code or a token goes to the configured URL and nowhere else),
 * counted for the metrics, and failing with a cause an operator can act on.
 */
import { networkCause } from './network-error.js';
import { UpstreamError } from './upstream.js';

export interface CallOptions {
  timeoutMs: number;
  /** How a failure names where it went (`POSTIZ_API_URL (https://…)`). */
  where: string;
  /** The setting that sets `timeoutMs`, named when it runs out. */
  timeoutSetting: string;
  /** Told of every request: its HTTP status, or `timeout`/`error`, and how long it took. */
  onRequest?: (status: string, seconds: number) => void;
}

/** The provider's answer to a request: its status and its body as text. */
export interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

/**
 * The most of an answer's body that is read (1 MiB): a provider's answers (a token, an error,
 * metadata, claims) are a few kilobytes, and one that runs on must not fill this server's memory.
 */
export const ANSWER_MAX_BYTES = 1024 * 1024;

/** An answer's body ran past `ANSWER_MAX_BYTES` (its reading stopped there). */
export class AnswerTooLargeError extends Error {
  override name = 'AnswerTooLargeError';
  constructor() {
    super('its body runs past 1 MiB');
  }
}

/** `response`'s body as text, read no further than `ANSWER_MAX_BYTES` (beyond: `AnswerTooLargeError`). */
export async function readBody(response: Response): Promise<string> {
  if (Number(response.headers.get('content-length')) > ANSWER_MAX_BYTES) {
    await response.body?.cancel();
    throw new AnswerTooLargeError();
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop (the throw) cancels the stream: nothing more is read.
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > ANSWER_MAX_BYTES) throw new AnswerTooLargeError();
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/**
 * Send one request; a network failure, no answer in time, or a body past `ANSWER_MAX_BYTES`
 * throws an `unavailable` `UpstreamError`.
 */
export async function call(url: string, init: RequestInit, options: CallOptions): Promise<Answer> {
  const started = performance.now();
  let status: number | undefined;
  try {
    const response = await fetch(url, {
      ...init,
      signal: AbortSignal.timeout(options.timeoutMs),
      redirect: 'error',
    });
    status = response.status;
    const text = await readBody(response);
    options.onRequest?.(String(response.status), (performance.now() - started) / 1000);
    return { status: response.status, text, headers: response.headers };
  } catch (err) {
    if (err instanceof AnswerTooLargeError) {
      // It answered, with a body nobody can use: a failure, counted by its status.
      options.onRequest?.(String(status), (performance.now() - started) / 1000);
      throw new UpstreamError(
        'unavailable',
        `${options.where} answered HTTP ${status}: ${err.message}`,
        status,
      );
    }
    const timedOut = (err as Error).name === 'TimeoutError';
    options.onRequest?.(timedOut ? 'timeout' : 'error', (performance.now() - started) / 1000);
    // Name the setting and the cause: "fetch failed" alone sends an operator guessing.
    throw new UpstreamError(
      'unavailable',
      timedOut
        ? `${options.where} gave no answer within ${options.timeoutMs} ms (${options.timeoutSetting})`
        : `${options.where} cannot be reached: ${networkCause(err)}`,
    );
  }
}

/** The fields of a JSON object body, or undefined when the text is not one. */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    return typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** An OAuth error code as the log may show it: word characters only, at most 64. */
export function errorCodeOf(fields: Record<string, unknown> | undefined): string | undefined {
  return typeof fields?.error === 'string' ? fields.error.replace(/[^\w.-]/g, '').slice(0, 64) : undefined;
}

/** Printable text of at most `max` characters (control characters dropped, trimmed), or undefined. */
export function printable(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, max);
  return text === '' ? undefined : text;
}

/**
 * A success answer's body (`fields`, read as JSON) and its access token, at most `maxLength`
 * characters; else an `unavailable` `UpstreamError` that never quotes the body (even a broken
 * success may hold a token).
 */
export function successAnswer(
  fields: Record<string, unknown> | undefined,
  status: number,
  maxLength: number,
): { accessToken: string; fields: Record<string, unknown> } {
  if (!fields) throw new UpstreamError('unavailable', 'unreadable success body', status);
  const token = fields.access_token;
  if (typeof token !== 'string' || token.length === 0 || token.length > maxLength) {
    throw new UpstreamError('unavailable', 'success without a usable access_token', status);
  }
  return { accessToken: token, fields };
}
