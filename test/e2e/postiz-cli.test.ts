/**
 * The published `postiz` CLI (2.1.0) logs in through a listening server, unchanged, on the
 * embedded database and on PostgreSQL (docs/compatibility.md). The CLI polls
 * every 5 s in real time, so each login takes several seconds.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { postgresStore, sharedPglite, UNPAID_ORG } from '../../harness/build.js';
import { usePostgres } from '../../harness/postgres.js';
import { defer, STAND_IN_ORG, startE2eServer } from '../../harness/processes.js';
import { approveInBrowser } from '../../harness/walker.js';
import type { Store } from '../../src/storage/store.js';
import { cliStatus, startCliLogin } from './support/postiz-cli.js';

const TIMEOUT = 90_000;

const pg = await usePostgres();

/** A full approved login; checks the saved credentials. */
async function loginApproved(t: TestContext, store: Store): Promise<void> {
  const { url, config, standIn } = await startE2eServer(t, store);
  const { child, home, opened } = await startCliLogin(t, url);
  assert.match(opened, new RegExp(`^${url}/device/verify\\?code=[A-Z0-9]{4}-[A-Z0-9]{4}$`));
  // The CLI prints the code it asks the user to enter: the same as the one in the URL.
  assert.ok(child.stdout().includes(new URL(opened).searchParams.get('code') ?? '<none>'), child.stdout());

  const last = await approveInBrowser(opened);
  assert.equal(last.status, 200, last.body.slice(0, 500));

  const { code } = await child.waitForExit(TIMEOUT);
  const output = `${child.stdout()}\n${child.stderr()}`;
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /slow_down/);

  const file = join(home, '.postiz', 'credentials.json');
  const credentials = JSON.parse(await readFile(file, 'utf8'));
  const tokens = standIn.issuedTokens();
  assert.ok(tokens.length > 0);
  assert.equal(credentials.accessToken, tokens.at(-1));
  assert.equal(credentials.apiUrl, config.postizApiUrl);
  assert.equal(credentials.organizationId, STAND_IN_ORG);
  assert.equal((await stat(file)).mode & 0o777, 0o600);

  // The saved token works at Postiz's public API, as `postiz auth:status` checks it.
  const status = await cliStatus(t, home);
  assert.equal(status.code, 0, status.output);
  assert.match(status.output, /Credentials are valid\. 1 integration\(s\) connected\./);
}

/** A login the user denies at Postiz: the CLI fails with access_denied and saves nothing. */
async function loginDenied(t: TestContext, store: Store): Promise<void> {
  const { url, standIn } = await startE2eServer(t, store);
  const { child, home, opened } = await startCliLogin(t, url);
  await approveInBrowser(opened, 'deny');

  const { code } = await child.waitForExit(TIMEOUT);
  assert.notEqual(code, 0, child.stdout());
  assert.match(child.stderr(), /access_denied/);
  assert.deepEqual(standIn.issuedTokens(), []);
  await assert.rejects(stat(join(home, '.postiz', 'credentials.json')), { code: 'ENOENT' });
}

/**
 * A login approved for an organisation without a Postiz subscription: the CLI ends with an
 * error that names the problem, and saves no credentials that would fail later.
 */
async function loginWithoutSubscription(t: TestContext, store: Store): Promise<void> {
  const { url } = await startE2eServer(t, store);
  const { child, home, opened } = await startCliLogin(t, url);
  const last = await approveInBrowser(opened, 'approve', undefined, UNPAID_ORG.id);
  assert.equal(last.status, 200, last.body.slice(0, 500));
  assert.match(last.body, /no Postiz subscription/);

  const { code } = await child.waitForExit(TIMEOUT);
  assert.equal(code, 1, child.stdout());
  assert.match(child.stderr(), /Authorization failed: postiz_subscription_required/);
  await assert.rejects(stat(join(home, '.postiz', 'credentials.json')), { code: 'ENOENT' });
}

/** A migrated store on a fresh PostgreSQL database, closed after the test. */
async function freshPostgresStore(t: TestContext): Promise<Store> {
  const store = await postgresStore(await pg!.createDatabase());
  defer(t, () => store.close());
  return store;
}

test('postiz auth:login succeeds on PGlite', { timeout: TIMEOUT }, async (t) => {
  await loginApproved(t, await sharedPglite());
});

test('postiz auth:login reports access_denied on PGlite', { timeout: TIMEOUT }, async (t) => {
  await loginDenied(t, await sharedPglite());
});

test('postiz auth:login succeeds on PostgreSQL', {
  timeout: TIMEOUT,
  skip: !pg && 'no PostgreSQL',
}, async (t) => {
  await loginApproved(t, await freshPostgresStore(t));
});

test('postiz auth:login reports access_denied on PostgreSQL', {
  timeout: TIMEOUT,
  skip: !pg && 'no PostgreSQL',
}, async (t) => {
  await loginDenied(t, await freshPostgresStore(t));
});

test('postiz auth:login for an organisation without a subscription ends naming the problem, on PGlite', {
  timeout: TIMEOUT,
}, async (t) => {
  await loginWithoutSubscription(t, await sharedPglite());
});

test('postiz auth:login for an organisation without a subscription ends naming the problem, on PostgreSQL', {
  timeout: TIMEOUT,
  skip: !pg && 'no PostgreSQL',
}, async (t) => {
  await loginWithoutSubscription(t, await freshPostgresStore(t));
});
