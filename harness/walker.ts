/**
 * The HTTP browser, for servers in other processes: follows the verification pages of a
 * listening server with a cookie jar, through the Postiz stand-in's consent page and back.
 * The in-process browser over `app.inject` is `inject-browser.ts`; both share `forms.ts`.
 */
import type { AtPostiz } from '../demo/stand-in/index.js';
import { CookieJar, field, formOf, optionValue } from './forms.js';

export interface Page {
  url: string;
  status: number;
  body: string;
  location?: string;
}

/** A browser: GET and form POST with cookies, `Origin` like a real browser, redirects followed by hand. */
export class Walker {
  /** One jar per host (the server and the stand-in are different hosts). */
  private readonly jars = new Map<string, CookieJar>();
  constructor(readonly headers: Record<string, string> = {}) {}

  /** The jar of `url`'s host. */
  jar(url: string): CookieJar {
    const host = new URL(url).host;
    let jar = this.jars.get(host);
    if (!jar) {
      jar = new CookieJar();
      this.jars.set(host, jar);
    }
    return jar;
  }

  async get(url: string): Promise<Page> {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: this.jar(url).header(), ...this.headers },
    });
    return this.page(url, response);
  }

  async post(url: string, form: Record<string, string>): Promise<Page> {
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: this.jar(url).header(),
        origin: new URL(url).origin,
        'content-type': 'application/x-www-form-urlencoded',
        ...this.headers,
      },
      body: new URLSearchParams(form).toString(),
    });
    return this.page(url, response);
  }

  /** Follow redirects (GET) until a page answers. */
  async follow(page: Page, limit = 5): Promise<Page> {
    let current = page;
    for (let i = 0; i < limit && current.location; i++)
      current = await this.get(new URL(current.location, current.url).href);
    return current;
  }

  /**
   * On Postiz's consent page at `authorizeUrl`, press Authorize or Deny, for an organisation
   * (`at`: an id, the one selected in Postiz by default) and a member (by name, signed in by
   * choosing them on the page; the user by default): Postiz's redirect (not followed).
   */
  async decideAtPostiz(authorizeUrl: string, decision: 'approve' | 'deny', at?: AtPostiz): Promise<Page> {
    const consent = await this.get(authorizeUrl);
    if (consent.status !== 200)
      throw new Error(`Postiz consent page answered ${consent.status}: ${consent.body}`);
    const form = formOf(consent.body, authorizeUrl);
    const { organization, member } =
      typeof at === 'string' ? { organization: at, member: undefined } : (at ?? {});
    return this.post(form.action, {
      ...form.fields,
      ...(organization ? { organization } : {}),
      ...(member ? { member: optionValue(consent.body, 'member', member) } : {}),
      action: decision,
    });
  }

  private async page(url: string, response: Response): Promise<Page> {
    this.jar(url).store(response.headers.getSetCookie());
    const location = response.headers.get('location') ?? undefined;
    return { url, status: response.status, body: await response.text(), ...(location ? { location } : {}) };
  }
}

/** Where a walk stopped: the browser, and Postiz's redirect back to `/device/callback` (not yet followed). */
export interface AtCallback {
  walker: Walker;
  /** Its `location` is the callback URL. */
  redirect: Page;
}

/**
 * From `verificationUriComplete`: code entry (pre-filled), confirmation, and Postiz's consent
 * (`decision`), stopping before the callback, for tests that break something in between.
 */
export async function walkToCallback(
  verificationUriComplete: string,
  decision: 'approve' | 'deny' = 'approve',
  walker = new Walker(),
  organization?: AtPostiz,
): Promise<AtCallback> {
  const entry = await walker.get(verificationUriComplete);
  if (entry.status !== 200) throw new Error(`entry page answered ${entry.status}`);
  const verifyUrl = new URL('/device/verify', verificationUriComplete).href;
  const confirm = await walker.post(verifyUrl, {
    _csrf: field(entry.body, '_csrf'),
    user_code: new URL(verificationUriComplete).searchParams.get('code') ?? '',
    action: 'lookup',
  });
  if (confirm.status !== 200)
    throw new Error(`confirmation page answered ${confirm.status}: ${confirm.body.slice(0, 500)}`);
  const toPostiz = await walker.post(verifyUrl, {
    _csrf: field(confirm.body, '_csrf'),
    user_code: field(confirm.body, 'user_code'),
    action: 'confirm',
  });
  if (!toPostiz.location)
    throw new Error(`confirm did not redirect (${toPostiz.status}): ${toPostiz.body.slice(0, 500)}`);
  const redirect = await walker.decideAtPostiz(toPostiz.location, decision, organization);
  if (!redirect.location?.includes('/device/callback?'))
    throw new Error(`Postiz did not redirect to the callback (${redirect.status}): ${redirect.body}`);
  return { walker, redirect };
}

/** The whole browser side of a login: `walkToCallback`, then the callback. Returns the last page. */
export async function approveInBrowser(
  verificationUriComplete: string,
  decision: 'approve' | 'deny' = 'approve',
  walker = new Walker(),
  organization?: AtPostiz,
): Promise<Page> {
  const { redirect } = await walkToCallback(verificationUriComplete, decision, walker, organization);
  return walker.follow(redirect);
}
