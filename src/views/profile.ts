/**
 * Whom the pages name and how they word it, from the provider profile (`Upstream`): the
 * provider's, the client's and the command's names fill the catalogs' `{provider}`, `{client}`
 * and `{command}`, and the wording picks the sentences that are true of the provider. Postiz's
 * wording says what only Postiz does (organisations, one CLI login per person and organisation,
 * subscriptions, its login page that does not come back); the generic wording says only what is
 * true of any OAuth 2.0 provider.
 */
import type { Upstream } from '../upstream/upstream.js';

/** `postiz`: the Postiz profile's own sentences; `generic`: any other provider's. */
export type Wording = 'postiz' | 'generic';

/** What the pages need to know of the provider profile. */
export interface PageProfile {
  /** The provider (`Postiz`), the client logging in (`Postiz CLI`), and the command that starts a login, if it has one. */
  names: { provider: string; client: string; command?: string };
  wording: Wording;
}

/** The pages' profile for a provider: its names, and Postiz's wording for the Postiz profile only. */
export function pageProfile(upstream: Pick<Upstream, 'id' | 'names'>): PageProfile {
  return { names: upstream.names, wording: upstream.id === 'postiz' ? 'postiz' : 'generic' };
}
