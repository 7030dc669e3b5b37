/**
 * Start-up guardrails beyond each setting's parser (src/guardrails.ts), and the variables that
 * look meant for this server but are none of its settings (src/settings-typos.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig, SETTINGS } from '../src/config.js';
import { loopbackServerUrlWarning } from '../src/guardrails.js';
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
