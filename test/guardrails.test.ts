/**
 * Start-up guardrails beyond each setting's parser (src/guardrails.ts), and the variables that
 * look meant for this server but are none of its settings (src/settings-typos.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '../harness/processes.js';
import { loadConfig, SETTINGS } from '../src/config.js';
import { loopbackServerUrlWarning, startupWarnings } from '../src/guardrails.js';
import {
  describeUnknown,
  editDistance,
  settingPrefixes,
  unknownVariables,
  withTypoHints,
} from '../src/settings-typos.js';

const NAMES = SETTINGS.map((s) => s.env);
const CREDENTIALS = {
  POSTIZ_OAUTH_CLIENT_ID: 'pca_0123456789abcdef0123456789abcdef',
  POSTIZ_OAUTH_CLIENT_SECRET: 'pcs_0123456789abcdef0123456789abcdef0123456789abcdef',
};

describe('SERVER_URL on a loopback address in production', () => {
  const warning = (env: Record<string, string>) =>
    loopbackServerUrlWarning(loadConfig({ ...CREDENTIALS, PGLITE_DATA_DIR: 'memory', ...env }), env);

  test('the default localhost URL is named as the default', () => {
    assert.match(
      warning({ NODE_ENV: 'production' }) ?? '',
      /^SERVER_URL is http:\/\/localhost:3111 \(the default: SERVER_URL is not set\), a loopback address, while NODE_ENV=production/,
    );
  });

  test('127.x, ::1 and *.localhost are loopback too; a public URL or development is not warned', () => {
    for (const url of ['http://127.0.0.2:3111', 'http://[::1]:3111', 'http://auth.localhost']) {
      assert.match(warning({ NODE_ENV: 'production', SERVER_URL: url }) ?? '', /^SERVER_URL is /, url);
    }
    assert.equal(warning({ NODE_ENV: 'production', SERVER_URL: 'https://auth.example.com' }), undefined);
    assert.equal(warning({ SERVER_URL: 'http://localhost:3111' }), undefined);
  });
});

describe('start-up warnings in production: plain http on a public host, TRUST_PROXY=true', () => {
  const warnings = (env: Record<string, string>) =>
    startupWarnings(loadConfig({ ...CREDENTIALS, PGLITE_DATA_DIR: 'memory', ...env }), env).map(
      (w) => w.message,
    );

  test('SERVER_URL=http://public-host: named, with why https matters (cookies, HSTS)', () => {
    assert.deepEqual(warnings({ NODE_ENV: 'production', SERVER_URL: 'http://auth.example.com' }), [
      'SERVER_URL is http://auth.example.com, plain http on a public host, while NODE_ENV=production: the cookies that bind a login to the browser that confirmed it are sent without Secure, readable and replaceable by anyone on the network path, and no Strict-Transport-Security is sent, so browsers keep using plain http. Terminate TLS at a proxy or the platform and set SERVER_URL to the https:// URL.',
    ]);
  });

  test('TRUST_PROXY=true: named, with what to set instead', () => {
    assert.deepEqual(
      warnings({ NODE_ENV: 'production', SERVER_URL: 'https://auth.example.com', TRUST_PROXY: 'true' }),
      [
        'TRUST_PROXY=true takes the client address from the first X-Forwarded-For entry, which the client writes itself: a device can claim the address of the browser it wants to confirm its login (skipping the cross-network check) and spread its rate limits over made-up addresses. Set TRUST_PROXY to the number of proxies in front of this server (1 behind one load balancer), or to their addresses or CIDR ranges (uniquelocal for a private network).',
      ],
    );
  });

  test('https, a hop count, a CIDR list, loopback (its own warning) or development: no such warning', () => {
    const quiet: Record<string, string>[] = [
      { NODE_ENV: 'production', SERVER_URL: 'https://auth.example.com', TRUST_PROXY: '1' },
      {
        NODE_ENV: 'production',
        SERVER_URL: 'https://auth.example.com',
        TRUST_PROXY: '10.0.0.0/8,uniquelocal',
      },
      { SERVER_URL: 'http://auth.example.com', TRUST_PROXY: 'true' },
    ];
    for (const env of quiet) {
      assert.deepEqual(warnings(env), [], JSON.stringify(env));
    }
    const loopback = warnings({ NODE_ENV: 'production', SERVER_URL: 'http://localhost:3111' });
    assert.equal(loopback.length, 1);
    assert.match(loopback[0]!, /a loopback address/);
  });
});

describe('variables that look like settings', () => {
  test('misspelt settings are named with the setting they most resemble', () => {
    const env = {
      DATABSE_URL: 'postgres://db/x',
      POSTIZ_OAUTH_CLIENT_SECERT: 'pcs_x',
      RATE_LIMIT_FLOW_START: '5',
      PROT: '4000',
      SERVERURL: 'https://x',
      database_url: 'postgres://db/x',
    };
    assert.deepEqual(unknownVariables(env, NAMES), [
      { name: 'DATABSE_URL', closest: 'DATABASE_URL' },
      { name: 'POSTIZ_OAUTH_CLIENT_SECERT', closest: 'POSTIZ_OAUTH_CLIENT_SECRET' },
      { name: 'RATE_LIMIT_FLOW_START', closest: 'RATE_LIMIT_FLOW_STARTS' },
      { name: 'PROT', closest: 'PORT' },
      { name: 'SERVERURL', closest: 'SERVER_URL' },
      { name: 'database_url', closest: 'DATABASE_URL' },
    ]);
    assert.equal(
      describeUnknown({ name: 'DATABSE_URL', closest: 'DATABASE_URL' }),
      'DATABSE_URL is set but is not a setting of this server, so it is ignored: did you mean DATABASE_URL?',
    );
    assert.match(describeUnknown({ name: 'database_url', closest: 'DATABASE_URL' }), /case-sensitive/);
  });

  test("the machine's own variables, libpq's, the postiz CLI's and Kubernetes' service links are left alone", () => {
    const env = {
      HOME: '/root',
      PATH: '/usr/bin',
      HOSTNAME: 'box',
      PWD: '/app',
      NODE_ENV: 'production',
      PGHOST: 'db',
      PGPORT: '5432',
      POSTIZ_API_KEY: 'x',
      POSTIZ_AUTH_SERVER: 'https://auth',
      POSTIZ_SERVICE_HOST: '10.0.0.1',
      POSTIZ_SERVICE_PORT: '5000',
      POSTIZ_PORT: 'tcp://10.0.0.1:5000',
      POSTIZ_PORT_5000_TCP_ADDR: '10.0.0.1',
      ...Object.fromEntries(NAMES.map((n) => [n, 'x'])),
    };
    assert.deepEqual(unknownVariables(env, NAMES), []);
  });

  test('prefixes come from the table, so a new setting brings its own', () => {
    const prefixes = settingPrefixes(NAMES);
    for (const p of ['DATABASE_', 'POSTIZ_', 'PGLITE_', 'RATE_', 'MAX_', 'POLL_'])
      assert.ok(prefixes.includes(p), p);
    assert.deepEqual(unknownVariables({ LISTEN_BACKLOG: '5' }, [...NAMES, 'LISTEN_BACKLOG']), []);
    assert.deepEqual(unknownVariables({ LISTEN_BACKLGO: '5' }, [...NAMES, 'LISTEN_BACKLOG']), [
      { name: 'LISTEN_BACKLGO', closest: 'LISTEN_BACKLOG' },
    ]);
  });

  test('a swap of two letters is one edit', () => {
    assert.equal(editDistance('PROT', 'PORT'), 1);
    assert.equal(editDistance('DATABSE_URL', 'DATABASE_URL'), 1);
    assert.equal(editDistance('', 'ab'), 2);
  });

  test('a failure caused by a misspelling says so', () => {
    assert.equal(
      withTypoHints('POSTIZ_OAUTH_CLIENT_SECRET is required (…)', { POSTIZ_OAUTH_CLIENT_SECERT: 'x' }, NAMES),
      'POSTIZ_OAUTH_CLIENT_SECRET is required (…) (POSTIZ_OAUTH_CLIENT_SECERT is set: did you mean POSTIZ_OAUTH_CLIENT_SECRET?)',
    );
    // Not when the setting is set after all, nor when the message is about something else.
    assert.equal(
      withTypoHints('DATABASE_URL has no host', { DATABASE_URL: 'x', DATABSE_URL: 'y' }, NAMES),
      'DATABASE_URL has no host',
    );
    assert.equal(withTypoHints('PORT must be …', { DATABSE_URL: 'y' }, NAMES), 'PORT must be …');
  });
});

test("docs/deploy.md's start-up table quotes the two warnings as the server words them", () => {
  const deploy = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
  const env = { NODE_ENV: 'production', SERVER_URL: 'http://public-host', TRUST_PROXY: 'true' };
  const [plainHttp, trust] = startupWarnings(
    loadConfig({ ...CREDENTIALS, PGLITE_DATA_DIR: 'memory', ...env }),
    env,
  );
  // The table quotes each up to an ellipsis: every quoted piece is the server's own words.
  for (const warning of [plainHttp!, trust!]) {
    const row = deploy.split('\n').find((l) => l.includes(warning.message.slice(0, 40)));
    assert.ok(row, `docs/deploy.md quotes "${warning.message.slice(0, 40)}…"`);
    const quoted = /warning: `([^`]+)`/.exec(row)![1]!;
    for (const piece of quoted
      .split('…')
      .map((p) => p.trim())
      .filter(Boolean))
      assert.ok(warning.message.includes(piece), `not the server's words: ${piece}`);
  }
});
