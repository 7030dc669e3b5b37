/**
 * The provider a deployment bridges to, built from its settings (`UPSTREAM`): Postiz by
 * default (`postiz/profile.ts`), or any OAuth 2.0 / OpenID Connect authorization server
 * (`oauth/profile.ts`). docs/providers.md says what a provider must offer.
 */
import type { Config } from '../config.js';
import { createPostizUpstream } from './postiz/profile.js';
import type { Upstream } from './upstream.js';

export type { Upstream } from './upstream.js';

/** What a profile's requests report (metrics): each exchange's status, or `error`/`timeout`, and how long it took. */
export type OnRequest = (status: string, seconds: number) => void;

/** The configured provider; `onRequest` observes its token exchanges. */
export async function createUpstream(config: Config, onRequest?: OnRequest): Promise<Upstream> {
  return createPostizUpstream({
    frontendUrl: config.postizFrontendUrl,
    apiUrl: config.postizApiUrl,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    timeoutMs: config.upstreamTimeoutMs,
    onRequest,
  });
}

/** How logs name where the provider is, for `config` (the setting and its value). */
export function upstreamWhere(config: Config): string {
  return `POSTIZ_API_URL (${config.postizApiUrl})`;
}
