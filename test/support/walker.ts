/**
 * An HTTP-level browser for end-to-end tests: follows the verification pages of a listening
 * server with a cookie jar, through the Postiz stand-in's consent page and back.
 */

/** A minimal cookie jar keyed by host (enough for localhost tests; ignores Path and expiry). */
export class CookieJar {
  private readonly jars = new Map<string, Map<string, string>>();

  store(url: string, response: Response): void {
    const host = new URL(url).host;
    const jar = this.jars.get(host) ?? new Map<string, string>();
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(header) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.jars.set(host, jar);
  }

  header(url: string): string {
    const jar = this.jars.get(new URL(url).host);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }
}

export interface Page {
  url: string;
  status: number;
  body: string;
  location?: string;
}

/** A browser: GET and form POST with cookies, `Origin` like a real browser, redirects followed by hand. */
export class Walker {
  readonly jar = new CookieJar();
  constructor(readonly headers: Record<string, string> = {}) {}

  async get(url: string): Promise<Page> {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: this.jar.header(url), ...this.headers },
    });
    return this.page(url, response);
  }

  async post(url: string, form: Record<string, string>): Promise<Page> {
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: this.jar.header(url),
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

  private async page(url: string, response: Response): Promise<Page> {
    this.jar.store(url, response);
    const location = response.headers.get('location') ?? undefined;
    return { url, status: response.status, body: await response.text(), ...(location ? { location } : {}) };
  }
}

/** The value of a form field in a page (`name="…" value="…"`). */
export function field(body: string, name: string): string {
  const match = body.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!match) throw new Error(`no field ${name} in page:\n${body.slice(0, 2000)}`);
  return match[1]!;
}

/**
 * Walk the whole browser side of a login from `verificationUriComplete`: code entry (pre-filled),
 * confirmation, Postiz consent (`decision` approve or deny), and the callback. Returns the last page.
 */
export async function approveInBrowser(
  verificationUriComplete: string,
  decision: 'approve' | 'deny' = 'approve',
  walker = new Walker(),
): Promise<Page> {
  const entry = await walker.get(verificationUriComplete);
  if (entry.status !== 200) throw new Error(`entry page answered ${entry.status}`);
  const verifyUrl = new URL('/device/verify', verificationUriComplete).href;
  const code = new URL(verificationUriComplete).searchParams.get('code') ?? '';
  const confirm = await walker.post(verifyUrl, {
    _csrf: field(entry.body, '_csrf'),
    user_code: code,
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
  const consent = await walker.get(toPostiz.location);
  if (consent.status !== 200) throw new Error(`Postiz consent page answered ${consent.status}`);
  // Post the stand-in's consent form with the chosen button.
  const action = new URL(
    consent.body.match(/<form[^>]*action="([^"]+)"/)?.[1] ?? '/oauth/authorize',
    toPostiz.location,
  ).href;
  const fields: Record<string, string> = {};
  for (const m of consent.body.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
    fields[m[1]!] = decodeEntities(m[2]!);
  }
  const decided = await walker.post(action, { ...fields, action: decision });
  return walker.follow(decided);
}

function decodeEntities(value: string): string {
  return value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
