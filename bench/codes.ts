/**
 * Deterministic device codes for the floors' flows, seeded straight into their table:
 * `code(prefix, i)` in JavaScript and `seededCodeSql` in SQL give the same 43-character
 * base64url string (the shape of a real device code), so the load generator can poll flows
 * it never saw created, and 100k of them are inserted in one statement.
 */
import { createHash } from 'node:crypto';

/** Rows in the floors' table, and the prefix of their seeded device codes. */
export const FLOOR_ROWS = 100_000;
export const FLOOR_PREFIX = 'floor-';

/** The i-th seeded device code for `prefix`. */
export function code(prefix: string, i: number): string {
  return createHash('sha256').update(`${prefix}${i}`).digest('base64url');
}

/** The first `count` seeded codes for `prefix`. */
export function codes(prefix: string, count: number, from = 0): string[] {
  const out: string[] = new Array(count - from);
  for (let i = from; i < count; i++) out[i - from] = code(prefix, i);
  return out;
}

/** SQL for `code($prefix, i)`, where `prefix` and `i` are SQL expressions (text, integer). */
export function seededCodeSql(prefix: string, i: string): string {
  return `translate(rtrim(encode(sha256(convert_to(${prefix} || ${i}, 'UTF8')), 'base64'), '='), '+/', '-_')`;
}

/**
 * One statement inserting `$2` pending flows numbered from 0 into `device_requests` (made by
 * the real migrations, bench/floor.ts): `$1` prefix, `$2` count, `$3` interval (s), `$4`
 * lifetime (s). Hashes are SHA-256 of the code, as the server stores them; the public key is
 * a placeholder, since a seeded flow is only ever polled, never approved.
 */
export function seedFlowsSql(): string {
  const deviceCode = seededCodeSql('$1::text', 'i');
  return `INSERT INTO device_requests (device_code_hash, flow_id, user_code_hash, public_key, client_ip,
      user_agent, interval_seconds, created_at, expires_at, holder)
    SELECT sha256(convert_to(${deviceCode}, 'UTF8')), $1::text || 'f' || i,
      sha256(convert_to($1::text || 'u' || i, 'UTF8')), sha256(convert_to($1::text || 'k' || i, 'UTF8')),
      '127.0.0.1', 'bench', $3::int, now(), now() + make_interval(secs => $4::int), '127.0.0.1'
    FROM generate_series(0, $2::int - 1) AS i`;
}

/** What the floors' table is: the migrations that made it, its indexes and its triggers. */
export interface FloorTable {
  migrations: number[];
  indexes: string[];
  triggers: string[];
}
