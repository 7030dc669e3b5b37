/**
 * A standard RFC 8628 client, `openid-client` v6, logs in through the server using only its
 * RFC 8414 metadata (docs/compatibility.md).
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import * as client from 'openid-client';
import { postgresStore, sharedPglite } from '../../harness/build.js';
import { usePostgres } from '../../harness/postgres.js';
import { defer, STAND_IN_ORG, startE2eServer } from '../../harness/processes.js';
import { approveInBrowser } from '../../harness/walker.js';
import type { Store } from '../../src/storage/store.js';

const TIMEOUT = 60_000;

const pg = await usePostgres();

/** Discovery, device authorization, the browser side, then polling until the token arrives. */
async function loginWithOpenidClient(t: TestContext, store: Store): Promise<void> {
  const { url, config, standIn } = await startE2eServer(t, store);
  const configuration = await client.discovery(new URL(url), 'cli', undefined, client.None(), {
    algorithm: 'oauth2',
    execute: [client.allowInsecureRequests],
  });
  const metadata = configuration.serverMetadata();
  assert.equal(metadata.device_authorization_endpoint, `${url}/device/code`);
  assert.equal(metadata.token_endpoint, `${url}/device/token`);

  const response = await client.initiateDeviceAuthorization(configuration, {});
  assert.equal(response.verification_uri, `${url}/device/verify`);
  assert.ok(response.verification_uri_complete, 'verification_uri_complete is present');
  assert.match(response.user_code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);

  const last = await approveInBrowser(response.verification_uri_complete);
  assert.equal(last.status, 200, last.body.slice(0, 500));

  // openid-client waits `interval` seconds before each poll, and honours slow_down itself.
  const tokens = await client.pollDeviceAuthorizationGrant(configuration, response);
  assert.equal(tokens.access_token, standIn.issuedTokens().at(-1));
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.equal(tokens.api_url, config.postizApiUrl);
  assert.equal(tokens.organization_id, STAND_IN_ORG);
}

/** A denied login makes the poll reject with access_denied. */
async function deniedWithOpenidClient(t: TestContext, store: Store): Promise<void> {
  const { url } = await startE2eServer(t, store);
  const configuration = await client.discovery(new URL(url), 'cli', undefined, client.None(), {
    algorithm: 'oauth2',
    execute: [client.allowInsecureRequests],
  });
  const response = await client.initiateDeviceAuthorization(configuration, {});
  await approveInBrowser(response.verification_uri_complete ?? '', 'deny');
  await assert.rejects(client.pollDeviceAuthorizationGrant(configuration, response), {
    error: 'access_denied',
  });
}

test('openid-client logs in through the metadata on PGlite', { timeout: TIMEOUT }, async (t) => {
  await loginWithOpenidClient(t, await sharedPglite());
});

test('openid-client sees access_denied when the user denies, on PGlite', { timeout: TIMEOUT }, async (t) => {
  await deniedWithOpenidClient(t, await sharedPglite());
});

test('openid-client logs in through the metadata on PostgreSQL', {
  timeout: TIMEOUT,
  skip: !pg && 'no PostgreSQL',
}, async (t) => {
  const store = await postgresStore(await pg!.createDatabase());
  defer(t, () => store.close());
  await loginWithOpenidClient(t, store);
});
