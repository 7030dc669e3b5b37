/**
 * What stopped a request to Postiz, in words an operator can act on. `fetch` only says
 * "fetch failed"; the cause (refused, unknown host, certificate) is in `err.cause`, or in the
 * errors of an AggregateError when every address of a host was tried.
 */

interface Coded {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** The innermost cause with a code, or the innermost cause at all. */
function innermost(err: unknown): Coded | undefined {
  let current = err as Coded | undefined;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (typeof current.code === 'string' && current.code !== 'UND_ERR_SOCKET') return current;
    const errors = Array.isArray(current.errors) ? (current.errors as Coded[]) : [];
    const coded = errors.find((e) => typeof e?.code === 'string');
    if (coded) return coded;
    const next = (current as { cause?: unknown }).cause as Coded | undefined;
    if (!next) return current;
    current = next;
  }
  return current;
}

/**
 * `ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:9)`, `ENOTFOUND (getaddrinfo ENOTFOUND …)`,
 * `CERT_HAS_EXPIRED (certificate has expired)`, or the message when there is no code.
 */
export function networkCause(err: unknown): string {
  const cause = innermost(err);
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const message = typeof cause?.message === 'string' ? cause.message.split('\n')[0]! : String(err);
  if (!code) return message;
  return message && message !== code ? `${code} (${message})` : code;
}
