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

/**
 * What to change when connecting failed for a reason that waiting cannot fix, or undefined
 * when it may be transient. PgBouncer answers a startup parameter it does not know with
 * SQLSTATE 08P01, which the connection-exception class above would otherwise wait on.
 */
export function permanentHint(err: Error, setting: string): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (/unsupported startup parameter/i.test(err.message)) {
    return `a connection pooler (PgBouncer) refuses this startup parameter: remove it from ${setting}, or list it in the pooler's ignore_startup_parameters`;
  }
  switch (code) {
    case '08P01':
      return `a protocol violation: check that ${setting} points at PostgreSQL or a pooler in front of it`;
    case '28P01':
      return `check the user and password in ${setting}; a password with @ : / # ? or % must be percent-encoded (# is %23, / is %2F)`;
    case '28000':
      return `check the user in ${setting}, and that pg_hba.conf lets it connect from here`;
    case '3D000':
      return `create that database, or fix the database name in ${setting}`;
    case '42501':
      return `the user in ${setting} may not connect to that database (GRANT CONNECT)`;
    default:
      return undefined;
  }
}
