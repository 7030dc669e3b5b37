/**
 * What the browser routes share: the session cookie, the anti-CSRF token derived from it,
 * the `Origin` check, and rendering a page with the right language, nonce and headers.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { newToken, safeEqual } from '../device-flow/codes.js';
import { PageError } from '../device-flow/page-error.js';
import { pickLanguage } from '../views/i18n/index.js';
import type { PageContext } from '../views/pages.js';
import type { PageProfile } from '../views/profile.js';

export interface BrowserOptions {
  serverUrl: string;
  secure: boolean;
  /** How long the browser keeps the secret naming its last approved login (LOGIN_HISTORY_DAYS). */
  loginHistoryDays: number;
  /** Where people reach whoever runs this server (SUPPORT_URL), shown on the pages; unset: nowhere. */
  supportUrl?: string;
  /** Whom the pages name and how they word it: the provider profile's (`views/profile.ts`). */
  profile: PageProfile;
}

const SESSION_MAX_AGE_SECONDS = 60 * 60;
/** Foreign origins warned about at most once each; past this many, no more (a flood stays bounded). */
const WARNED_ORIGINS_MAX = 100;

/** Browser-session helpers bound to the server's public URL. */
export class Browser {
  readonly sessionCookie: string;
  /** The secret naming the last CLI login approved in this browser (`device-flow/browser-logins.ts`). */
  readonly loginCookie: string;
  /**
   * The cookie earlier versions kept: an organisation's keyed hash, the same for every member
   * of it. Deleted wherever it is still sent; never read.
   */
  private readonly formerOrganizationCookie: string;
  private readonly origin: string;
  private readonly warnedOrigins = new Set<string>();

  constructor(private readonly options: BrowserOptions) {
    this.sessionCookie = options.secure ? '__Host-pca_session' : 'pca_session';
    this.loginCookie = options.secure ? '__Host-pca_login' : 'pca_login';
    this.formerOrganizationCookie = options.secure ? '__Host-pca_org' : 'pca_org';
    this.origin = new URL(options.serverUrl).origin;
  }

  /**
   * The name of the cookie binding a flow's callback to the browser that confirmed it:
   * `__Host-` on https (no Domain, Path=/, Secure), so no sibling host can plant one.
   */
  bindingCookie(flowId: string): string {
    return `${this.options.secure ? '__Host-' : ''}pca_bind_${flowId}`;
  }

  /** The binding secrets this request's browser holds, by flow. */
  bindingsOf(request: FastifyRequest): (flowId: string) => string | undefined {
    return (flowId) => request.cookies[this.bindingCookie(flowId)];
  }

  /** The session id, creating the cookie when the browser has none. */
  session(request: FastifyRequest, reply: FastifyReply): string {
    const existing = request.cookies[this.sessionCookie];
    if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
    const id = newToken(32);
    this.setCookie(reply, this.sessionCookie, id, SESSION_MAX_AGE_SECONDS);
    return id;
  }

  /** Set an HttpOnly, SameSite=Lax cookie (Secure on https). Lax: it must come back on the provider's redirect. */
  setCookie(reply: FastifyReply, name: string, value: string, maxAgeSeconds: number): void {
    reply.setCookie(name, value, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.options.secure,
      maxAge: maxAgeSeconds,
    });
  }

  /**
   * After a login approved in this browser: keep its new login secret for as long as logins are
   * kept (the one it sent before names nothing any more), and drop the former organisation cookie.
   */
  rememberLogin(request: FastifyRequest, reply: FastifyReply, secret: string): void {
    this.setCookie(reply, this.loginCookie, secret, this.options.loginHistoryDays * 24 * 60 * 60);
    if (request.cookies[this.formerOrganizationCookie] !== undefined)
      this.setCookie(reply, this.formerOrganizationCookie, '', 0);
  }

  /** The anti-CSRF token for a session: derived, so nothing is stored, and unreadable cross-site. */
  csrfToken(sessionId: string): string {
    return createHash('sha256').update(`csrf:${sessionId}`).digest('base64url');
  }

  /** A page context for this request (creates the session when needed). */
  context(request: FastifyRequest, reply: FastifyReply): PageContext {
    return {
      lang: pickLanguage(request.headers['accept-language']),
      nonce: reply.cspNonce?.script ?? '',
      csrf: this.csrfToken(this.session(request, reply)),
      ...(this.options.supportUrl ? { supportUrl: this.options.supportUrl } : {}),
      profile: this.options.profile,
    };
  }

  /**
   * Refuse a form post that did not come from our own page: a foreign `Origin`, a missing
   * session, or a token that does not match the session (constant-time).
   */
  checkForm(request: FastifyRequest, token: unknown): void {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== this.origin) {
      this.warnOrigin(request, origin);
      throw new PageError('wrong_origin');
    }
    const session = request.cookies[this.sessionCookie];
    if (!session) throw new PageError('cookies_required');
    const expected = Buffer.from(this.csrfToken(session));
    if (typeof token !== 'string' || !safeEqual(Buffer.from(token), expected))
      throw new PageError('forbidden');
  }

  /**
   * A form posted from another origin is most often this server reached at another address
   * than SERVER_URL's (127.0.0.1 for localhost, a bare IP, http for https): something only the
   * operator can fix. Said once per origin, so neither a user reloading nor a forging site
   * floods the log.
   */
  private warnOrigin(request: FastifyRequest, origin: string): void {
    const seen = origin.slice(0, 200);
    if (this.warnedOrigins.has(seen) || this.warnedOrigins.size >= WARNED_ORIGINS_MAX) return;
    this.warnedOrigins.add(seen);
    request.log.warn(
      { origin: seen, expected: this.origin },
      `a form was posted from ${seen}, not from SERVER_URL's origin ${this.origin}: refused. If users reach this server at that address, set SERVER_URL to it (or send them to ${this.origin}); a site other than this server is a forgery attempt`,
    );
  }
}

/** Send an HTML page; pages are never cached (they carry codes or tokens). */
export function sendPage(reply: FastifyReply, statusCode: number, body: string): FastifyReply {
  return reply
    .code(statusCode)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(body);
}
