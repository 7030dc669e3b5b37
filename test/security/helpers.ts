/**
 * Helpers for the attack tests: a cookie-keeping browser over `app.inject`, the steps of a
 * flow one by one (so a test can stop between them and attack), and raw views of a database.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../src/storage/sql-store.js';

/** An answer of the app, as a test needs it. */
export interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
  location?: string;
  /** Every `Set-Cookie` header, raw. */
  setCookies: string[];
}

/** The device authorization response. */
export interface Started {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** All `Set-Cookie` headers of an answer. */
export function setCookies(headers: Answer['headers']): string[] {
  const raw = headers['set-cookie'];
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [String(raw)]).map(String);
}

function answer(res: {
  statusCode: number;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
}): Answer {
  const location = res.headers.location;
  return {
    status: res.statusCode,
    body: res.body,
    headers: res.headers,
    setCookies: setCookies(res.headers),
    ...(typeof location === 'string' ? { location } : {}),
  };
}

/**
 * A browser over `app.inject`: keeps cookies (by name; expiry and Path ignored), sends
 * `Origin` on posts like a real browser, and extra headers (e.g. `X-Forwarded-For`) on all.
 */
export class InjectBrowser {
  readonly cookies = new Map<string, string>();

  constructor(
    private readonly app: FastifyInstance,
    readonly origin = 'http://localhost:3111',
    readonly headers: Record<string, string> = {},
  ) {}

  /** The `Cookie` header this browser sends. */
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string): Promise<Answer> {
    const res = await this.app.inject({
      method: 'GET',
      url,
      headers: { cookie: this.cookieHeader(), ...this.headers },
    });
    return this.keep(answer(res));
  }

  /** A form post; `origin: null` leaves the header out, a string overrides it. */
  async post(
    url: string,
    form: Record<string, string>,
    options: { origin?: string | null } = {},
  ): Promise<Answer> {
    const origin = options.origin === undefined ? this.origin : options.origin;
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        cookie: this.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
        ...(origin === null ? {} : { origin }),
        ...this.headers,
      },
      payload: new URLSearchParams(form).toString(),
    });
    return this.keep(answer(res));
  }

  private keep(a: Answer): Answer {
    for (const header of a.setCookies) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(header) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return a;
  }
}

/** The value of the browser-binding cookie `browser` holds (the one of its only, or latest, flow). */
export function bindingOf(browser: InjectBrowser): string {
  const values = [...browser.cookies].filter(([name]) => name.includes('pca_bind_')).map(([, v]) => v);
  assert.ok(values.length > 0, 'the browser holds a binding cookie');
  return values.at(-1)!;
}

/** The value of a form field in a page (an `<input>` with `name="…"` and `value="…"`). */
export function field(body: string, name: string): string {
  const match = body.match(new RegExp(`<input[^>]*\\bname="${name}"[^>]*\\bvalue="([^"]*)"`));
  if (!match) throw new Error(`no field ${name} in page:\n${body.slice(0, 1500)}`);
  return match[1]!;
}

/** POST /device/code as the postiz CLI does (JSON content type, no body). */
export async function startFlow(
  app: FastifyInstance,
  headers: Record<string, string> = {},
): Promise<Started> {
  const res = await app.inject({
    method: 'POST',
    url: '/device/code',
    headers: { 'content-type': 'application/json', 'user-agent': 'postiz/2.1.0 (linux)', ...headers },
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as Started;
}

/** POST /device/token as the postiz CLI does. */
export async function poll(
  app: FastifyInstance,
  deviceCode: string,
  headers: Record<string, string> = {},
): Promise<Answer & { json: Record<string, unknown> }> {
  const res = await app.inject({
    method: 'POST',
    url: '/device/token',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ device_code: deviceCode }),
  });
  return { ...answer(res), json: res.json() as Record<string, unknown> };
}

/** Open the entry page (as `verification_uri_complete` does) and submit the code: the confirmation page. */
export async function enterCode(browser: InjectBrowser, userCode: string): Promise<Answer> {
  const entry = await browser.get(`/device/verify?code=${encodeURIComponent(userCode)}`);
  assert.equal(entry.status, 200);
  return browser.post('/device/verify', {
    _csrf: field(entry.body, '_csrf'),
    user_code: userCode,
    action: 'lookup',
  });
}

/** Press a button of the confirmation page: `confirm` (a redirect to Postiz) or `deny`. */
export function pressOnConfirmation(
  browser: InjectBrowser,
  confirmation: Answer,
  action: 'confirm' | 'deny',
): Promise<Answer> {
  return browser.post('/device/verify', {
    _csrf: field(confirmation.body, '_csrf'),
    user_code: field(confirmation.body, 'user_code'),
    action,
  });
}

/**
 * At the (listening) Postiz stand-in: open the consent page at `authorizeUrl` and press
 * Authorize or Deny. Returns the callback URL Postiz redirects the browser to.
 */
export async function consentAtPostiz(authorizeUrl: string, decision: 'approve' | 'deny'): Promise<URL> {
  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  const html = await consent.text();
  assert.equal(consent.status, 200, html);
  const form: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form[m[1]!] = m[2]!.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');
  }
  const decided = await fetch(new URL('/oauth/authorize', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form, action: decision }).toString(),
  });
  const location = decided.headers.get('location');
  assert.ok(location, `Postiz did not redirect (${decided.status})`);
  return new URL(location);
}

/** The path and query of a URL, for `inject`. */
export const pathOf = (url: URL | string): string => {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.pathname}${u.search}`;
};

/** Everything a full walk up to Postiz's redirect back produced, secrets included. */
export interface Walked {
  started: Started;
  browser: InjectBrowser;
  /** The redirect to Postiz's authorize page. */
  authorizeUrl: string;
  /** Where Postiz sends the browser back (not yet followed). */
  callbackUrl: URL;
  state: string;
  /** Postiz's authorization code (absent when denied). */
  code: string | undefined;
}

/** Start a flow, enter its code, confirm, and decide at Postiz; stops before the callback. */
export async function walkToCallback(
  app: FastifyInstance,
  decision: 'approve' | 'deny' = 'approve',
  browser = new InjectBrowser(app),
): Promise<Walked> {
  const started = await startFlow(app);
  const confirmation = await enterCode(browser, started.user_code);
  assert.equal(confirmation.status, 200, confirmation.body);
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.ok(redirect.location, `confirm did not redirect (${redirect.status})`);
  const callbackUrl = await consentAtPostiz(redirect.location, decision);
  return {
    started,
    browser,
    authorizeUrl: redirect.location,
    callbackUrl,
    state: callbackUrl.searchParams.get('state') ?? '',
    code: callbackUrl.searchParams.get('code') ?? undefined,
  };
}

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
