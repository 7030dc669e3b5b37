/**
 * Raw views of a database for the attack tests: every table, every value, every form a secret
 * could take in them.
 */
import type { Db } from '../../src/storage/db.js';

/** The names of every table in the public schema. */
export async function publicTables(db: Db): Promise<string[]> {
  const rows = await db.query(
    `SELECT table_name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return rows.map((r) => String(r.table_name));
}

/** Every value of every row of every public table, as the driver returns them. */
export async function dumpValues(db: Db): Promise<{ table: string; column: string; value: unknown }[]> {
  const out: { table: string; column: string; value: unknown }[] = [];
  for (const table of await publicTables(db)) {
    for (const row of await db.query(`SELECT * FROM "${table.replaceAll('"', '""')}"`)) {
      for (const [column, value] of Object.entries(row)) out.push({ table, column, value });
    }
  }
  return out;
}

/** What `pg_dump --data-only` would print of every row: the text form of each row. */
export async function dumpText(db: Db): Promise<string> {
  const lines: string[] = [];
  for (const table of await publicTables(db)) {
    const rows = await db.query(`SELECT t::text AS line FROM "${table.replaceAll('"', '""')}" AS t`);
    for (const row of rows) lines.push(`${table}\t${String(row.line)}`);
  }
  return lines.join('\n');
}

/** The forms a secret could be written in: as is, and as hex, base64 and base64url of its UTF-8 bytes. */
export function textForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const hex = bytes.toString('hex');
  return [secret, hex, hex.toUpperCase(), bytes.toString('base64'), bytes.toString('base64url')];
}

/** The byte strings a secret could be stored as: its UTF-8 bytes, and the bytes it encodes when base64url. */
export function byteForms(secret: string): Buffer[] {
  const forms = [Buffer.from(secret, 'utf8')];
  if (/^[A-Za-z0-9_-]{16,}$/.test(secret)) forms.push(Buffer.from(secret, 'base64url'));
  return forms;
}

/** Where (if anywhere) a secret shows in `haystack`, text or bytes, in any of its forms. */
export function findSecret(haystack: unknown, secret: string): string | undefined {
  if (typeof haystack === 'string') {
    const i = textForms(secret).findIndex((t) => haystack.includes(t));
    return i >= 0 ? `text form #${i}` : undefined;
  }
  if (haystack instanceof Uint8Array) {
    const buf = Buffer.from(haystack);
    for (const form of byteForms(secret)) if (buf.includes(form)) return 'raw bytes';
    for (const encoding of ['utf8', 'latin1', 'hex', 'base64', 'base64url'] as const) {
      const found = findSecret(buf.toString(encoding), secret);
      if (found) return `${encoding} of bytes, ${found}`;
    }
    return undefined;
  }
  if (haystack === null || haystack === undefined) return undefined;
  if (haystack instanceof Date || typeof haystack !== 'object') return findSecret(String(haystack), secret);
  return findSecret(JSON.stringify(haystack), secret);
}
