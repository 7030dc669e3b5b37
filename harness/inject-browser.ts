/**
 * The in-process browser, over `app.inject`, and the steps of a flow one by one (so a test can
 * stop between them and attack). The HTTP browser is `walker.ts`; both share `forms.ts`.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { AtPostiz } from '../demo/stand-in/index.js';
import type { DeviceAuthorization } from './device.js';
import { CookieJar, field, setCookiesOf } from './forms.js';
import { Walker } from './walker.js';

export { field };

/** RFC 8628 §3.4's grant type, written out here (the server's own constant is what is tested). */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** An answer of the app, as a test needs it. */
export interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
  location?: string;
  /** Every `Set-Cookie` header, raw. */
  setCookies: string[];
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
    setCookies: setCookiesOf(res.headers),
    ...(typeof location === 'string' ? { location } : {}),
  };
}

/**
 * A browser over `app.inject`: keeps cookies (by name; expiry and Path ignored), sends
 * `Origin` on posts like a real browser, and extra headers (e.g. `X-Forwarded-For`) on all.
 */
export class InjectBrowser {
  private readonly jar = new CookieJar();
  /** The cookies this browser holds, by name. */
  readonly cookies = this.jar.cookies;

  constructor(
    private readonly app: FastifyInstance,
    readonly origin = 'http://localhost:3111',
    readonly headers: Record<string, string> = {},
  ) {}

  /** The `Cookie` header this browser sends. */
  cookieHeader(): string {
    return this.jar.header();
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
    this.jar.store(a.setCookies);
    return a;
  }
}

/** The value of the browser-binding cookie `browser` holds (the one of its only, or latest, flow). */
export function bindingOf(browser: InjectBrowser): string {
  const values = [...browser.cookies].filter(([name]) => name.includes('pca_bind_')).map(([, v]) => v);
  assert.ok(values.length > 0, 'the browser holds a binding cookie');
  return values.at(-1)!;
}

/** POST /device/code as the postiz CLI does (JSON content type, no body). */
export async function startFlow(
  app: FastifyInstance,
  headers: Record<string, string> = {},
): Promise<DeviceAuthorization> {
  const res = await app.inject({
    method: 'POST',
    url: '/device/code',
    headers: { 'content-type': 'application/json', 'user-agent': 'postiz/2.1.0 (linux)', ...headers },
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as DeviceAuthorization;
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

/** POST /device/token as an RFC 8628 client does: a form with `grant_type` (it may get `slow_down`). */
export async function rfcPoll(
  app: FastifyInstance,
  deviceCode: string,
): Promise<Answer & { json: Record<string, unknown> }> {
  const res = await app.inject({
    method: 'POST',
    url: '/device/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: DEVICE_CODE_GRANT,
      device_code: deviceCode,
      client_id: 'cli',
    }).toString(),
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
 * Authorize or Deny, as a browser does. Returns the callback URL Postiz redirects the browser to.
 */
export async function consentAtPostiz(
  authorizeUrl: string,
  decision: 'approve' | 'deny',
  organization?: AtPostiz,
): Promise<URL> {
  const decided = await new Walker().decideAtPostiz(authorizeUrl, decision, organization);
  assert.ok(decided.location, `Postiz did not redirect (${decided.status})`);
  return new URL(decided.location);
}

/** The path and query of a URL, for `inject`. */
export const pathOf = (url: URL | string): string => {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.pathname}${u.search}`;
};

/** Everything a full walk up to Postiz's redirect back produced, secrets included. */
export interface Walked {
  started: DeviceAuthorization;
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
  organization?: AtPostiz,
  /** Headers of the device's `POST /device/code` (its address behind a proxy, its user agent). */
  deviceHeaders: Record<string, string> = {},
): Promise<Walked> {
  const started = await startFlow(app, deviceHeaders);
  const confirmation = await enterCode(browser, started.user_code);
  assert.equal(confirmation.status, 200, confirmation.body);
  const redirect = await pressOnConfirmation(browser, confirmation, 'confirm');
  assert.ok(redirect.location, `confirm did not redirect (${redirect.status})`);
  const callbackUrl = await consentAtPostiz(redirect.location, decision, organization);
  return {
    started,
    browser,
    authorizeUrl: redirect.location,
    callbackUrl,
    state: callbackUrl.searchParams.get('state') ?? '',
    code: callbackUrl.searchParams.get('code') ?? undefined,
  };
}
