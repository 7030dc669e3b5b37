/**
 * Refresh through the bridge (docs/providers.md, "What the device receives"), over HTTP through
 * `app.inject`, against a real authorization server (`oidc-provider`, harness/oidc-provider.ts):
 * `grant_type=refresh_token` at /device/token is forwarded with this server's client credentials
 * and answered as the provider answered; malformed requests are refused here; Postiz, which
 * issues no refresh tokens, refuses the grant; each address is held to RATE_LIMIT_REFRESHES,
 * also when its requests arrive at once; nothing of a refresh is stored, and its log line holds
 * no token; the metadata lists the grant only where it is taken.
 */
import assert from 'node:assert/strict';
import { after, before, describe, type TestContext, test } from 'node:test';
import { build } from '../../harness/build.js';
import { type OidcProvider, oauthSettings, startOidcProvider } from '../../harness/oidc-provider.js';

const SERVER_URL = 'http://localhost:3111';
const REDIRECT_URI = `${SERVER_URL}/device/callback`;

let provider: OidcProvider;
before(async () => {
  provider = await startOidcProvider({ redirectUri: REDIRECT_URI });
});
after(() => provider?.stop());

/** An app bridging to the provider (`UPSTREAM=oauth`), with `env` added. */
function bridge(t: TestContext, options: { env?: Record<string, string> } = {}) {
  return build(t, { ...options, env: { SERVER_URL, ...oauthSettings(provider), ...options.env } });
}

describe('the metadata', () => {
  test('lists refresh_token in grant_types_supported with UPSTREAM=oauth', async (t) => {
    const built = await bridge(t);
    const res = await built.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    assert.deepEqual(res.json().grant_types_supported, [
      'urn:ietf:params:oauth:grant-type:device_code',
      'refresh_token',
    ]);
  });

  test('lists only the device code with Postiz, which issues no refresh tokens', async (t) => {
    const built = await build(t);
    const res = await built.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    assert.deepEqual(res.json().grant_types_supported, ['urn:ietf:params:oauth:grant-type:device_code']);
  });
});
