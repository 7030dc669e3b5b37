/**
 * The pages' profiles the view tests render with: Postiz's, taken from the Postiz profile itself,
 * and a generic provider's with the names a deployment sets (`OAUTH_PROVIDER_NAME`,
 * `OAUTH_CLIENT_NAME`, `OAUTH_LOGIN_COMMAND`).
 */
import { createPostizUpstream } from '../src/upstream/postiz/profile.js';
import { type PageProfile, pageProfile } from '../src/views/profile.js';

/** The Postiz profile's pages. */
export const POSTIZ_PAGES: PageProfile = pageProfile(
  createPostizUpstream({
    frontendUrl: 'http://localhost:3112',
    apiUrl: 'http://localhost:3112',
    clientId: 'pca_pages',
    clientSecret: 'pcs_pages',
    timeoutMs: 1000,
  }),
);

/** The names of the generic provider the tests deploy: Example, with its CLI and login command. */
export const EXAMPLE_NAMES = { provider: 'Example', client: 'Example CLI', command: 'example login' };

/** A generic provider's pages (`UPSTREAM=oauth`) with `names`. */
export function genericPages(names: PageProfile['names'] = EXAMPLE_NAMES): PageProfile {
  return pageProfile({ id: 'oauth', names });
}
