/**
 * A configured webhook URL as it is called and as it is logged. `fetch` refuses a URL with
 * credentials in it (`https://user:secret@host/…`), so they travel as HTTP Basic instead; logs
 * name the endpoint without its credentials or query string (either may hold a secret).
 */

export interface Endpoint {
  /** The URL as configured: what `deliveredTo` records. */
  url: string;
  /** What is fetched: the URL without credentials. */
  target: string;
  /** `Authorization: Basic …` for credentials in the URL. */
  authorization: string | undefined;
  /** The origin and path, for logs. */
  shown: string;
}

/** How `url` (an http(s) URL, checked by the settings) is called and shown. */
export function endpoint(url: string): Endpoint {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const authorization =
    user || password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined;
  parsed.username = '';
  parsed.password = '';
  return { url, target: parsed.href, authorization, shown: `${parsed.origin}${parsed.pathname}` };
}
