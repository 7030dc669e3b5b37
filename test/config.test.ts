import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROMISED_SETTINGS } from '../harness/build.js';
import { ConfigError, describeConfig, loadConfig, SETTINGS } from '../src/config.js';

const CLIENT_ID = 'pca_0123456789abcdef0123456789abcdef';
const CLIENT_SECRET = 'pcs_0123456789abcdef0123456789abcdef0123456789abcdef';
const CREDENTIALS = { POSTIZ_OAUTH_CLIENT_ID: CLIENT_ID, POSTIZ_OAUTH_CLIENT_SECRET: CLIENT_SECRET };

/** Settings from `env` on top of valid credentials (and nothing else: no process.env). */
function load(env: Record<string, string | undefined> = {}) {
  return loadConfig({ ...CREDENTIALS, ...env });
}

/** The `ConfigError` that loading `env` throws. */
function configError(env: Record<string, string | undefined>, options?: { requireCredentials?: boolean }) {
  try {
    loadConfig(env, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

/** A bad value stops start-up with one line that names the variable. */
function assertRefused(name: string, value: string): ConfigError {
  const err = configError({ ...CREDENTIALS, [name]: value });
  assert.equal(err.name, 'ConfigError');
  assert.ok(!err.message.includes('\n'), `message is one line: ${JSON.stringify(err.message)}`);
  assert.ok(err.message.includes(name), `message names ${name}: ${err.message}`);
  return err;
}

describe('loadConfig defaults', () => {
  test('every contract default applies when only the credentials are set', () => {
    const config = load();
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.pgliteDataDir, './.data/pglite');
    assert.equal(config.clientId, CLIENT_ID);
    assert.equal(config.clientSecret, CLIENT_SECRET);
    assert.equal(config.port, 3111);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.serverUrl, 'http://localhost:3111');
    assert.equal(config.postizFrontendUrl, 'https://platform.postiz.com');
    assert.equal(config.postizApiUrl, 'https://api.postiz.com');
    assert.equal(config.trustProxy, false);
    assert.equal(config.deviceCodeTtlSeconds, 900);
    assert.equal(config.pollIntervalSeconds, 5);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.metricsToken, undefined);
  });

  test('an empty or blank value counts as unset', () => {
    const config = load({ PORT: '', LOG_LEVEL: '   ', DEVICE_CODE_TTL_SECONDS: '' });
    assert.equal(config.port, 3111);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.deviceCodeTtlSeconds, 900);
  });

  test('SERVER_URL defaults to localhost on the configured PORT', () => {
    const config = load({ PORT: '4000' });
    assert.equal(config.port, 4000);
    assert.equal(config.serverUrl, 'http://localhost:4000');
  });

  test('an explicit SERVER_URL wins over the PORT-derived default', () => {
    assert.equal(
      load({ PORT: '4000', SERVER_URL: 'https://auth.example.com' }).serverUrl,
      'https://auth.example.com',
    );
  });

  test('trailing slashes are removed from URLs', () => {
    const config = load({
      SERVER_URL: 'https://auth.example.com/',
      POSTIZ_FRONTEND_URL: 'https://postiz.example.com/app//',
      POSTIZ_API_URL: 'https://api.example.com/',
    });
    assert.equal(config.serverUrl, 'https://auth.example.com');
    assert.equal(config.postizFrontendUrl, 'https://postiz.example.com/app');
    assert.equal(config.postizApiUrl, 'https://api.example.com');
  });

  test('values are parsed to their types', () => {
    const config = load({
      DATABASE_URL: 'postgres://user:pw@db.example.com:5432/auth',
      PORT: '8080',
      TRUST_PROXY: 'true',
      DEVICE_CODE_TTL_SECONDS: '600',
      POLL_INTERVAL_SECONDS: '10',
      LOG_LEVEL: 'DEBUG',
    });
    assert.equal(config.databaseUrl, 'postgres://user:pw@db.example.com:5432/auth');
    assert.equal(config.port, 8080);
    assert.equal(config.trustProxy, true);
    assert.equal(config.deviceCodeTtlSeconds, 600);
    assert.equal(config.pollIntervalSeconds, 10);
    assert.equal(config.logLevel, 'debug');
  });

  test('TRUST_PROXY takes a hop count or a list of addresses and CIDRs', () => {
    assert.equal(load({ TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(load({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(load({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy, ['10.0.0.0/8', '127.0.0.1']);
    assert.deepEqual(load({ TRUST_PROXY: 'loopback,::1' }).trustProxy, ['loopback', '::1']);
  });

  test('a pcd_ client id is accepted too', () => {
    assert.equal(load({ POSTIZ_OAUTH_CLIENT_ID: 'pcd_abc' }).clientId, 'pcd_abc');
  });
});

describe('loadConfig refuses malformed values with one line naming the variable', () => {
  const cases: Array<[string, string]> = [
    ['SERVER_URL', 'not a url'],
    ['SERVER_URL', 'ftp://example.com'],
    ['SERVER_URL', 'https://example.com/?x=1'],
    ['POSTIZ_FRONTEND_URL', 'platform.postiz.com'],
    ['POSTIZ_API_URL', 'http//api.postiz.com'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['DATABASE_URL', 'localhost:5432'],
    ['PORT', 'abc'],
    ['PORT', '80a'],
    ['PORT', '-1'],
    ['PORT', '3.5'],
    ['PORT', '70000'],
    ['DEVICE_CODE_TTL_SECONDS', '0'],
    ['DEVICE_CODE_TTL_SECONDS', '10'],
    ['DEVICE_CODE_TTL_SECONDS', '86400'],
    ['DEVICE_CODE_TTL_SECONDS', 'ten'],
    ['POLL_INTERVAL_SECONDS', '0'],
    ['TRUST_PROXY', 'yes'],
    ['TRUST_PROXY', 'maybe,127.0.0.1'],
    ['LOG_LEVEL', 'verbose'],
    ['POSTIZ_OAUTH_CLIENT_ID', 'abc_0123456789'],
    ['POSTIZ_OAUTH_CLIENT_ID', 'pcs_0123456789'],
    ['POSTIZ_OAUTH_CLIENT_ID', 'pca_'],
    ['POSTIZ_OAUTH_CLIENT_SECRET', 'pca_0123456789'],
    ['SUPPORT_URL', 'help.example.com'],
    ['SUPPORT_URL', 'javascript:alert(1)'],
    ['SUPPORT_URL', 'ftp://example.com/help'],
    ['SUPPORT_URL', 'mailto:'],
    ['SUPPORT_URL', 'mailto:ops'],
  ];
  for (const [name, value] of cases) {
    test(`${name}=${JSON.stringify(value)}`, () => {
      assertRefused(name, value);
    });
  }

  test('a held poll must fit in a connection: CONNECTION_TIMEOUT_MS stays above the 20 s maximum wait', () => {
    assert.match(assertRefused('CONNECTION_TIMEOUT_MS', '20000').message, /between 21000 and/);
  });

  test('HEADERS_TIMEOUT_MS may not exceed REQUEST_TIMEOUT_MS', () => {
    const err = configError({
      POSTIZ_OAUTH_CLIENT_ID: 'pca_0123456789',
      POSTIZ_OAUTH_CLIENT_SECRET: CLIENT_SECRET,
      REQUEST_TIMEOUT_MS: '3000',
      HEADERS_TIMEOUT_MS: '4000',
    });
    assert.match(
      err.message,
      /^HEADERS_TIMEOUT_MS \(4000\) must not be greater than REQUEST_TIMEOUT_MS \(3000\)$/,
    );
  });

  test('range errors say the allowed range', () => {
    assert.match(assertRefused('DEVICE_CODE_TTL_SECONDS', '10').message, /between 60 and 3600/);
  });

  test('the wrong client id prefix says what is expected', () => {
    assert.match(assertRefused('POSTIZ_OAUTH_CLIENT_ID', 'abc_0123').message, /pca_/);
  });

  // An address list that Fastify (proxy-addr) cannot compile must be refused here, as a
  // ConfigError naming TRUST_PROXY, not later as "invalid IP address: …" from buildApp.
  for (const value of ['dead', '10.0.0.256', '10.0.0.0/99', 'cafe::1/200']) {
    test(`TRUST_PROXY=${JSON.stringify(value)} (not an address) is refused`, () => {
      assertRefused('TRUST_PROXY', value);
    });
  }
});

describe('credentials', () => {
  test('a missing POSTIZ_OAUTH_CLIENT_ID says it is required and why', () => {
    const err = configError({ POSTIZ_OAUTH_CLIENT_SECRET: CLIENT_SECRET });
    assert.match(err.message, /^POSTIZ_OAUTH_CLIENT_ID is required \(.+\)$/);
    assert.match(err.message, /pca_/);
  });

  test('a missing POSTIZ_OAUTH_CLIENT_SECRET says it is required', () => {
    const err = configError({ POSTIZ_OAUTH_CLIENT_ID: CLIENT_ID });
    assert.match(err.message, /^POSTIZ_OAUTH_CLIENT_SECRET is required \(.+\)$/);
  });

  test('a blank POSTIZ_OAUTH_CLIENT_ID is missing, not malformed', () => {
    const err = configError({ ...CREDENTIALS, POSTIZ_OAUTH_CLIENT_ID: '  ' });
    assert.match(err.message, /^POSTIZ_OAUTH_CLIENT_ID is required/);
  });

  test('requireCredentials: false lets both be unset (for migrate)', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://localhost/db' }, { requireCredentials: false });
    assert.equal(config.clientId, undefined);
    assert.equal(config.clientSecret, undefined);
    assert.equal(config.databaseUrl, 'postgres://localhost/db');
  });

  test('requireCredentials: false still refuses a malformed value that is given', () => {
    const err = configError({ POSTIZ_OAUTH_CLIENT_ID: 'nope' }, { requireCredentials: false });
    assert.match(err.message, /POSTIZ_OAUTH_CLIENT_ID/);
    const other = configError({ PORT: 'x' }, { requireCredentials: false });
    assert.match(other.message, /PORT/);
  });
});

describe("a provider's endpoints (OAUTH_…_ENDPOINT)", () => {
  test('are called as written, their query string and trailing slash kept (RFC 6749 §3.1)', () => {
    const config = loadConfig({
      UPSTREAM: 'oauth',
      OAUTH_AUTHORIZATION_ENDPOINT: 'https://id.example.com/authorize?p=sign_in',
      OAUTH_TOKEN_ENDPOINT: 'https://id.example.com/token/',
      OAUTH_CLIENT_ID: 'client',
      OAUTH_CLIENT_SECRET: 'secret',
    });
    assert.equal(config.oauthAuthorizationEndpoint, 'https://id.example.com/authorize?p=sign_in');
    assert.equal(config.oauthTokenEndpoint, 'https://id.example.com/token/');
  });

  test('are refused, saying why, when not an absolute http(s) URL or with a fragment', () => {
    for (const [value, problem] of [
      ['/token', 'is not an absolute URL'],
      ['ftp://id.example.com/token', 'starts with ftp:, not https: or http:'],
      ['https://id.example.com/token#x', 'has a fragment'],
    ]) {
      assert.equal(
        assertRefused('OAUTH_TOKEN_ENDPOINT', value!).message,
        `OAUTH_TOKEN_ENDPOINT must be a URL such as https://example.com/token: "${value}" ${problem}`,
      );
    }
  });
});

describe('SUPPORT_URL', () => {
  test('unset by default: no page offers a contact', () => {
    assert.equal(load().supportUrl, undefined);
  });

  test('takes a web page or an e-mail address', () => {
    assert.equal(
      load({ SUPPORT_URL: 'https://help.example.com/cli' }).supportUrl,
      'https://help.example.com/cli',
    );
    assert.equal(
      load({ SUPPORT_URL: ' http://intranet.example/it?topic=cli ' }).supportUrl,
      'http://intranet.example/it?topic=cli',
    );
    assert.equal(load({ SUPPORT_URL: 'mailto:ops@example.com' }).supportUrl, 'mailto:ops@example.com');
  });

  test('anything else is refused, saying what it takes', () => {
    assert.match(
      assertRefused('SUPPORT_URL', 'javascript:alert(1)').message,
      /https:\/\/, http:\/\/ or mailto:/,
    );
  });
});

describe('SETTINGS', () => {
  test('names every contract variable once, each with a description', () => {
    const names = SETTINGS.map((s) => s.env);
    assert.equal(new Set(names).size, names.length, 'no variable listed twice');
    const keys = SETTINGS.map((s) => s.key);
    assert.equal(new Set(keys).size, keys.length, 'no config key listed twice');
    for (const name of PROMISED_SETTINGS) {
      assert.ok(names.includes(name), `${name} is a setting`);
    }
    for (const setting of SETTINGS) assert.ok(setting.description.length > 0, `${setting.env} is described`);
  });

  test('every setting lands in the config object', () => {
    const config = load();
    for (const setting of SETTINGS) assert.ok(setting.key in config, `${setting.key} is set`);
  });
});

describe('describeConfig', () => {
  test('hides the client secret, the metrics token and the database password', () => {
    const config = load({
      DATABASE_URL: 'postgres://auth:hunter2-db-password@db.example.com/auth',
      METRICS_TOKEN: 'metrics-token-value',
    });
    const described = describeConfig(config);
    const text = JSON.stringify(described);
    assert.ok(!text.includes(CLIENT_SECRET), 'no client secret');
    assert.ok(!text.includes('hunter2-db-password'), 'no database password');
    assert.ok(!text.includes('metrics-token-value'), 'no metrics token');
    assert.equal(described.clientSecret, '[set]');
    assert.equal(described.clientId, CLIENT_ID, 'the client id is not a secret');
    assert.match(String(described.databaseUrl), /^postgres:\/\/auth:\*\*\*@db\.example\.com\/auth$/);
  });

  test('logs webhook endpoints by origin and a tag: no credentials, path or query string', () => {
    const described = describeConfig(
      load({
        WEBHOOK_URL:
          'https://hooker:hook-password@hooks.example.com/in/path-secret?key=query-key, https://hooks.example.com/other-path-secret/',
        WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
      }),
    );
    const text = JSON.stringify(described);
    for (const secret of [
      'hooker',
      'hook-password',
      'path-secret',
      'query-key',
      Buffer.alloc(32, 7).toString('base64'),
    ])
      assert.ok(!text.includes(secret), `no ${secret}`);
    const shown = described.webhookUrls as string[];
    for (const endpoint of shown) assert.match(endpoint, /^https:\/\/hooks\.example\.com \([0-9a-f]{8}\)$/);
    assert.notEqual(shown[0], shown[1], 'two endpoints on one host are told apart');
  });

  test('leaves the config itself untouched', () => {
    const config = load();
    describeConfig(config);
    assert.equal(config.clientSecret, CLIENT_SECRET);
  });
});

describe('WEBHOOK_URL', () => {
  const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
  test('each URL is called as written, its query string and trailing slash kept', () => {
    assert.deepEqual(
      load({ WEBHOOK_URL: 'https://a.example/in/, http://b.example/hook?key=k1&x=2', WEBHOOK_SECRET: SECRET })
        .webhookUrls,
      ['https://a.example/in/', 'http://b.example/hook?key=k1&x=2'],
    );
  });

  test('a bad entry is named by its place, never quoted (it may hold a key)', () => {
    for (const [value, why] of [
      ['https://a.example/#frag-secret', /WEBHOOK_URL must not have a fragment \(#…\): entry 1 has one/],
      ['https://a.example/, ftp://u:ftp-secret@b.example/', /entry 2 starts with ftp:/],
      ['not a url-secret', /entry 1 is not one/],
    ] as const) {
      const err = configError({ ...CREDENTIALS, WEBHOOK_URL: value, WEBHOOK_SECRET: SECRET });
      assert.match(err.message, why);
      assert.doesNotMatch(err.message, /secret/);
    }
  });

  test('a bad percent-escape in the credentials stops start-up with one line naming WEBHOOK_URL, not quoting them', () => {
    for (const [value, entry] of [
      ['https://a%zz-secret@hooks.example.com/in', 'entry 1'],
      ['https://b.example/, https://user:pass%G1-secret@hooks.example.com/in', 'entry 2'],
    ] as const) {
      const err = configError({ ...CREDENTIALS, WEBHOOK_URL: value, WEBHOOK_SECRET: SECRET });
      assert.ok(!err.message.includes('\n'), `one line: ${JSON.stringify(err.message)}`);
      assert.match(err.message, /^WEBHOOK_URL\b/);
      assert.ok(err.message.includes(entry), `${entry}: ${err.message}`);
      assert.doesNotMatch(err.message, /secret|%zz|%G1|URI malformed/);
    }
  });
});

describe('mistakes an operator makes on the first day', () => {
  test('TRUST_PROXY names the entry that is not an address or range, and why', () => {
    const err = assertRefused('TRUST_PROXY', '10.0.0.0/8, 10.0.0.0/33');
    assert.match(
      err.message,
      /"10\.0\.0\.0\/33" is not a CIDR range: the prefix length \/33 must be a number from 0 to 32/,
    );
    assert.match(
      assertRefused('TRUST_PROXY', 'loopback,proxy.internal').message,
      /"proxy\.internal" is not an IP address/,
    );
  });

  for (const [host, why] of [
    ['999.1.1.1', /not an IPv4 address/],
    ['http://0.0.0.0', /not a URL.*SERVER_URL/],
    ['0.0.0.0:3111', /HOST=0\.0\.0\.0 and PORT=3111/],
    ['[::1]', /HOST=::1/],
  ] as const) {
    test(`HOST=${host} is refused before listening`, () => {
      assert.match(assertRefused('HOST', host).message, why);
    });
  }

  test('HOST accepts addresses and host names', () => {
    for (const host of ['0.0.0.0', '127.0.0.1', '::', '::1', 'fe80::1', 'localhost', 'auth.internal']) {
      assert.equal(load({ HOST: host }).host, host);
    }
  });

  test('NODE_ENV=production refuses the embedded database unless PGLITE_DATA_DIR is set', () => {
    const err = configError({ ...CREDENTIALS, NODE_ENV: 'production' });
    assert.match(err.message, /^NODE_ENV=production but neither DATABASE_URL nor PGLITE_DATA_DIR is set/);
    assert.ok(!err.message.includes('\n'));
    assert.equal(
      load({ NODE_ENV: 'production', PGLITE_DATA_DIR: '/var/lib/auth' }).pgliteDataDir,
      '/var/lib/auth',
    );
    assert.equal(load({ NODE_ENV: 'production', PGLITE_DATA_DIR: 'memory' }).pgliteDataDir, 'memory');
    assert.equal(
      load({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/auth' }).databaseUrl,
      'postgres://db/auth',
    );
    // Outside production the embedded database stays the zero-configuration default.
    assert.equal(load({ NODE_ENV: 'development' }).pgliteDataDir, './.data/pglite');
    assert.equal(load().pgliteDataDir, './.data/pglite');
  });

  test('integer settings and choices carry their range for --help', () => {
    const byName = new Map(SETTINGS.map((s) => [s.env, s]));
    assert.equal(byName.get('PORT')?.parse.range, '0–65535');
    assert.deepEqual(byName.get('LOG_FORMAT')?.parse.choices, ['json', 'pretty']);
  });
});
