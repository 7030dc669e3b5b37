/** What operators and passers-by meet first: the bare address, the build's identity, and /metrics' build_info. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from '../../harness/build.js';
import { buildInfo } from '../../src/version.js';

test('GET / sends a person to the code-entry page (before: a JSON 404)', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/device/verify');
  const page = await app.inject({ method: 'GET', url: String(res.headers.location) });
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.equal((await app.inject({ method: 'HEAD', url: '/' })).statusCode, 303);
});

test('GET / under a SERVER_URL with a path keeps the path (the proxy strips it on the way in)', async (t) => {
  const { app } = await build(t, { env: { SERVER_URL: 'https://example.com/cli-auth/' } });
  const res = await app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/cli-auth/device/verify');
  // Resolved against the address the browser typed, with or without the trailing slash.
  for (const typed of ['https://example.com/cli-auth/', 'https://example.com/cli-auth']) {
    assert.equal(
      new URL(String(res.headers.location), typed).href,
      'https://example.com/cli-auth/device/verify',
    );
  }
});

test('/metrics has postiz_cli_auth_build_info with the version, commit and Node.js', async (t) => {
  const { app } = await build(t);
  const { version, commit, node } = buildInfo();
  const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.ok(
    body.includes(`postiz_cli_auth_build_info{version="${version}",commit="${commit}",node="${node}"} 1`),
    body
      .split('\n')
      .filter((l) => l.includes('build_info'))
      .join('\n'),
  );
});
