/** Telling "the database is unreachable right now" apart from a bug in a query. */

// Connection-level failures (node and libpq-style codes) and PostgreSQL's SQLSTATE classes
// 08 (connection exception) and 57P (operator intervention: shutdown, crash, cannot connect now).
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  '53300',
]);
const TRANSIENT_MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|connection error|not queryable|Client was closed/i;

/** Whether `err` means the database cannot be reached (so retrying later may work). */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (TRANSIENT_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))
  ) {
    return true;
  }
  return TRANSIENT_MESSAGES.test(err.message);
}
