/**
 * What both test browsers share (the in-process one, `inject-browser.ts`, and the HTTP one,
 * `walker.ts`): a cookie jar and a reader of the pages' forms.
 */

/** A cookie jar for one site: cookies by name (Path, Domain and expiry ignored: enough for tests). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  /** Take the `Set-Cookie` headers of an answer; `Max-Age=0` or an empty value deletes. */
  store(setCookies: readonly string[]): void {
    for (const header of setCookies) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(header) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** The `Cookie` header to send ('' when empty). */
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The `Set-Cookie` headers of an answer, whatever shape the headers came in. */
export function setCookiesOf(headers: Record<string, unknown> | Headers): string[] {
  if (headers instanceof Headers) return headers.getSetCookie();
  const raw = headers['set-cookie'];
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).map(String);
}

/** HTML attribute text back to its value (the entities our pages and the stand-in write). */
function decodeEntities(value: string): string {
  return value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The value of a form field in a page: an `<input>` with `name="…"` and `value="…"`. */
export function field(body: string, name: string): string {
  const match = body.match(new RegExp(`<input[^>]*\\bname="${name}"[^>]*\\bvalue="([^"]*)"`));
  if (!match) throw new Error(`no field ${name} in page:\n${body.slice(0, 1500)}`);
  return decodeEntities(match[1]!);
}

/** A page's first form: where it posts, and its hidden fields (what a browser sends with a button). */
export function formOf(body: string, pageUrl: string): { action: string; fields: Record<string, string> } {
  const action = body.match(/<form[^>]*\baction="([^"]*)"/)?.[1];
  if (action === undefined) throw new Error(`no form in page:\n${body.slice(0, 1500)}`);
  const fields: Record<string, string> = {};
  for (const m of body.matchAll(/<input[^>]*\btype="hidden"[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"/g)) {
    fields[m[1]!] = decodeEntities(m[2]!);
  }
  return { action: new URL(decodeEntities(action), pageUrl).href, fields };
}

/** The value of the `<option>` of select `name` whose text is `text`. */
export function optionValue(body: string, name: string, text: string): string {
  const select = body.match(new RegExp(`<select[^>]*\\bname="${name}"[^>]*>([\\s\\S]*?)</select>`))?.[1];
  if (select === undefined) throw new Error(`no select ${name} in page:\n${body.slice(0, 1500)}`);
  for (const m of select.matchAll(/<option[^>]*\bvalue="([^"]*)"[^>]*>([^<]*)<\/option>/g)) {
    if (decodeEntities(m[2]!) === text) return decodeEntities(m[1]!);
  }
  throw new Error(`no option ${text} in select ${name}`);
}
