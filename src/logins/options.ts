/**
 * The options of `postiz-cli-auth logins` (docs/deploy.md, "Audit trail and webhooks"), read
 * and checked before anything opens the database: a bad value is one line and exit code 2.
 */
import { LOGIN_OUTCOMES, type LoginOutcome } from '../storage/store.js';

/** Rows shown when `--limit` is not given, and the most it accepts. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100_000;

/** The options as given. */
export interface LoginsOptions {
  organization?: string;
  since?: string;
  outcome?: string;
  limit?: string;
  json: boolean;
}

/** The options, checked. */
export interface LoginsQuery {
  organization: string | undefined;
  since: Date | undefined;
  outcome: LoginOutcome | undefined;
  limit: number;
  json: boolean;
}

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000 };

/**
 * `--since`: a relative age (`7d`, `24h`, `30m`: that long before `now`) or an ISO 8601 date
 * (`2026-03-01`, midnight UTC) or date and time (`2026-03-01T09:30Z`; without a zone, UTC).
 */
export function parseSince(text: string, now: number): Date | undefined {
  const relative = /^(\d{1,6})([dhm])$/.exec(text.trim());
  if (relative) return new Date(now - Number(relative[1]) * UNIT_MS[relative[2]!]!);
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(
    text.trim(),
  );
  if (!iso) return undefined;
  // A date and time without a zone is UTC, as the table shows times (JavaScript would take local time).
  const withZone = iso[1] || !text.includes(':') ? text.trim() : `${text.trim()}Z`;
  const at = new Date(withZone.replace(' ', 'T'));
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Check `options`; the query, or the one line that says what is wrong. */
export function checkOptions(options: LoginsOptions, now: number): LoginsQuery | { error: string } {
  let since: Date | undefined;
  if (options.since !== undefined) {
    since = parseSince(options.since, now);
    if (!since)
      return {
        error: `--since takes an age such as 7d, 24h or 30m, or an ISO date or time such as 2026-03-01 or 2026-03-01T09:30Z; got "${options.since}"`,
      };
  }
  let outcome: LoginOutcome | undefined;
  if (options.outcome !== undefined) {
    outcome = LOGIN_OUTCOMES.find((o) => o === options.outcome?.trim().toLowerCase());
    if (!outcome)
      return { error: `--outcome takes one of ${LOGIN_OUTCOMES.join(', ')}; got "${options.outcome}"` };
  }
  let limit = DEFAULT_LIMIT;
  if (options.limit !== undefined) {
    limit = /^\d+$/.test(options.limit.trim()) ? Number(options.limit.trim()) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT))
      return { error: `--limit takes a whole number from 1 to ${MAX_LIMIT}; got "${options.limit}"` };
  }
  if (options.organization !== undefined && options.organization.trim() === '')
    return {
      error: '--organization takes an organisation id, such as the organization_id the CLI was given',
    };
  return { organization: options.organization?.trim(), since, outcome, limit, json: options.json };
}
