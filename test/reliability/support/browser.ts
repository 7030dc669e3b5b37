/**
 * The browser side of a login stopped just before the callback: for tests that break something
 * (the database, the process) between Postiz's redirect and the browser following it.
 */
import { field, type Page, Walker } from '../../support/walker.js';

export interface AtCallback {
  walker: Walker;
  /** Postiz's redirect back to `/device/callback` (its `location` is the callback URL). */
  redirect: Page;
}

/** Code entry, confirmation and Postiz's consent (`decision`), without following Postiz's redirect. */
export async function walkToCallback(
  verificationUriComplete: string,
  decision: 'approve' | 'deny' = 'approve',
  walker = new Walker(),
): Promise<AtCallback> {
  const entry = await walker.get(verificationUriComplete);
  const verify = new URL('/device/verify', verificationUriComplete).href;
  const confirm = await walker.post(verify, {
    _csrf: field(entry.body, '_csrf'),
    user_code: new URL(verificationUriComplete).searchParams.get('code') ?? '',
    action: 'lookup',
  });
  const toPostiz = await walker.post(verify, {
    _csrf: field(confirm.body, '_csrf'),
    user_code: field(confirm.body, 'user_code'),
    action: 'confirm',
  });
  if (!toPostiz.location) throw new Error(`confirm did not redirect (${toPostiz.status}): ${toPostiz.body}`);
  const consent = await walker.get(toPostiz.location);
  const fields: Record<string, string> = { action: decision };
  for (const m of consent.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    fields[m[1]!] = m[2]!.replaceAll('&quot;', '"').replaceAll('&amp;', '&');
  const redirect = await walker.post(new URL('/oauth/authorize', toPostiz.location).href, fields);
  if (!redirect.location?.includes('/device/callback?'))
    throw new Error(`Postiz did not redirect to the callback (${redirect.status}): ${redirect.body}`);
  return { walker, redirect };
}
