/**
 * One schema for every setting: each entry names its variable, its default, what it means,
 * and how it is parsed. `loadConfig` reads the environment once; a bad value throws a
 * `ConfigError` whose message is the one line an operator needs.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { embeddedDatabaseProblem, hostProblem, proxyEntryProblem } from './guardrails.js';
import { parseDatabaseUrl, redactDatabaseUrl } from './storage/connection.js';
import { endpoint } from './webhooks/endpoint.js';

/**
 * What the confirmation page asks of a browser on another network than the device's: a warning
 * only, the code typed by hand when it came in a link, or a refusal (docs/security.md).
 */
export type CrossNetworkPolicy = 'warn' | 'type-code' | 'block';

/** How `TRUST_PROXY` is handed to Fastify: off, a hop count, or a list of addresses/CIDRs. */
export type TrustProxy = boolean | number | string[];

export interface Config {
  databaseUrl: string | undefined;
  databaseDirectUrl: string | undefined;
  databaseCaFile: string | undefined;
  databaseStartupTimeoutSeconds: number;
  pgliteDataDir: string;
  upstream: 'postiz' | 'oauth';
  clientId: string;
  clientSecret: string;
  port: number;
  host: string;
  serverUrl: string;
  postizFrontendUrl: string;
  postizApiUrl: string;
  oauthIssuer: string | undefined;
  oauthAuthorizationEndpoint: string | undefined;
  oauthTokenEndpoint: string | undefined;
  oauthUserinfoEndpoint: string | undefined;
  oauthIntrospectionEndpoint: string | undefined;
  oauthClientId: string | undefined;
  oauthClientSecret: string | undefined;
  oauthClientAuth: 'client_secret_basic' | 'client_secret_post' | undefined;
  oauthScopes: string | undefined;
  oauthTokenCheck: 'userinfo' | 'introspection' | 'none' | undefined;
  oauthProviderName: string | undefined;
  oauthClientName: string;
  oauthLoginCommand: string | undefined;
  trustProxy: TrustProxy;
  deviceCodeTtlSeconds: number;
  pollIntervalSeconds: number;
  pollWaitSeconds: number;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  upstreamTimeoutMs: number;
  tokenCheckTimeoutMs: number;
  crossNetworkPolicy: CrossNetworkPolicy;
  loginHistoryDays: number;
  auditRetentionDays: number;
  webhookUrls: string[];
  webhookSecret: string | undefined;
  webhookTimeoutMs: number;
  shutdownTimeoutMs: number;
  purgeIntervalSeconds: number;
  userCodeAttempts: number;
  userCodeWindowSeconds: number;
  userCodeGlobalAttempts: number;
  flowStartLimit: number;
  flowStartWindowSeconds: number;
  unknownPollLimit: number;
  unknownPollWindowSeconds: number;
  refreshLimit: number;
  refreshWindowSeconds: number;
  refreshGlobalLimit: number;
  codeBurnLimit: number;
  codeBurnWindowSeconds: number;
  codeBurnGlobalLimit: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  connectionTimeoutMs: number;
  maxHeldPollsPerAddress: number;
  maxPendingFlows: number;
  listenBacklog: number;
  metricsToken: string | undefined;
  databasePoolSize: number;
  supportUrl: string | undefined;
}

/** A setting that is missing or malformed; `message` is the whole explanation. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A setting's parser; `range` and `choices` tell `--help` and `.env.example` what it accepts. */
type Parser<T> = ((raw: string, name: string) => T) & { range?: string; choices?: readonly string[] };

interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  description: string;
  /** Default as the operator would write it; `undefined` means "unset is allowed". */
  default?: string | ((env: Env) => string | undefined);
  /** When the setting has no default, why it is needed (printed when it is missing). */
  required?: string;
  /** The provider profile (`UPSTREAM`) it is required with, when only one needs it. */
  profile?: 'postiz' | 'oauth';
  parse: Parser<Config[K]>;
  /** What values it accepts, when its parser does not say (shown by `--help`). */
  range?: string;
}

type Env = Record<string, string | undefined>;

const fail = (message: string): never => {
  throw new ConfigError(message);
};

const string: Parser<string> = (raw) => raw;

const integer = (min: number, max: number): Parser<number> =>
  Object.assign(
    (raw: string, name: string) => {
      if (!/^\d+$/.test(raw.trim())) fail(`${name} must be a whole number, got "${raw}"`);
      const value = Number(raw.trim());
      if (value < min || value > max) fail(`${name} must be between ${min} and ${max}, got ${value}`);
      return value;
    },
    { range: `${min}–${max}` },
  );

const url =
  (protocols: string[]): Parser<string> =>
  (raw, name) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return fail(`${name} must be a URL such as ${protocols[0]}//example.com, got "${raw}"`);
    }
    if (!protocols.includes(parsed.protocol)) {
      fail(`${name} must start with ${protocols.join(' or ')}, got "${raw}"`);
    }
    if (parsed.search || parsed.hash) fail(`${name} must not have a query string or fragment`);
    // One canonical form (no trailing slash) so every derived link is built the same way.
    return parsed.href.replace(/\/+$/, '');
  };

/**
 * Why `raw` cannot be one of a provider's endpoints, or undefined when it can: an absolute
 * `https:` or `http:` URL without a fragment, its query kept (RFC 6749 §3.1 and §3.2). The
 * `OAUTH_…_ENDPOINT` settings and the endpoints read from the provider's metadata are held to it.
 */
export function endpointProblem(raw: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return `starts with ${parsed.protocol}, not https: or http:`;
  if (parsed.hash) return 'has a fragment';
  return undefined;
}

/** A provider's endpoint (`endpointProblem`), called as written. */
const providerEndpoint: Parser<string> = (raw, name) => {
  const problem = endpointProblem(raw);
  if (problem) fail(`${name} must be a URL such as https://example.com/token: "${raw}" ${problem}`);
  return new URL(raw).href;
};

/** A PostgreSQL connection URL, checked (libpq parameters); errors never show its password. */
const databaseUrl: Parser<string> = (raw, name) => {
  try {
    parseDatabaseUrl(raw.trim(), name);
  } catch (err) {
    fail((err as Error).message);
  }
  return raw.trim();
};

const prefixed =
  (prefixes: string[], what: string): Parser<string> =>
  (raw, name) => {
    const value = raw.trim();
    if (!prefixes.some((p) => value.startsWith(p) && value.length > p.length)) {
      fail(`${name} must be ${what} (starting with ${prefixes.join(' or ')})`);
    }
    return value;
  };

const trustProxy: Parser<TrustProxy> = (raw, name) => {
  const value = raw.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  if (/^\d+$/.test(value)) return Number(value);
  const list = value.split(',').map((s) => s.trim());
  const bad = list.find((entry) => !isProxyAddress(entry));
  if (bad === undefined) return list;
  // Name the entry: in a list of ten ranges, "a list of addresses/CIDRs" does not say which is wrong.
  return fail(
    `${name} must be true, false, a hop count, or a comma-separated list of addresses/CIDRs: "${bad}" is not ${proxyEntryProblem(bad)}`,
  );
};

/** An address, a CIDR range, or one of proxy-addr's named ranges. */
function isProxyAddress(entry: string): boolean {
  if (/^(loopback|linklocal|uniquelocal)$/.test(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

const oneOf = <T extends string>(values: readonly T[]): Parser<T> =>
  Object.assign(
    (raw: string, name: string) => {
      const value = raw.trim().toLowerCase() as T;
      if (!values.includes(value)) fail(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
      return value;
    },
    { choices: values },
  );

/**
 * A comma-separated list of http(s) URLs (empty entries ignored), each called as written: a
 * query string is kept (some receivers take their key there), a fragment refused (never sent).
 */
const urlList: Parser<string[]> = (raw, name) =>
  raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, i) => {
      // The entry is never quoted back: it may hold a password or a key.
      let parsed: URL;
      try {
        parsed = new URL(entry);
      } catch {
        return fail(
          `${name} must be URLs such as https://hooks.example.com/postiz: entry ${i + 1} is not one`,
        );
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        fail(`${name} must start with https: or http:, entry ${i + 1} starts with ${parsed.protocol}`);
      }
      if (parsed.hash) fail(`${name} must not have a fragment (#…): entry ${i + 1} has one`);
      // The sender decodes them into HTTP Basic (src/webhooks/endpoint.ts): refused here, in
      // one line, rather than as a bare "URI malformed" when the sender starts.
      if (!isPercentEncoded(parsed.username) || !isPercentEncoded(parsed.password)) {
        fail(
          `${name} entry ${i + 1} has a user name or password that is not percent-encoded: each % must start an escape of two hex digits (a % itself is %25)`,
        );
      }
      return parsed.href;
    });

/** Whether `text` decodes as percent-encoded UTF-8. */
function isPercentEncoded(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/** A Standard Webhooks secret: `whsec_` and the base64 of at least 24 random bytes. */
const webhookSecret: Parser<string> = (raw, name) => {
  const value = raw.trim();
  const body = value.startsWith('whsec_') ? value.slice('whsec_'.length) : undefined;
  if (body === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || Buffer.from(body, 'base64').length < 24) {
    fail(
      `${name} must be a Standard Webhooks secret: whsec_ followed by the base64 of at least 24 random bytes (make one with: node -e "console.log('whsec_' + require('crypto').randomBytes(32).toString('base64'))")`,
    );
  }
  return value;
};

/**
 * Where people reach whoever runs the server: a web page or an e-mail address. Only these three
 * schemes: the value becomes a link on every page, and `javascript:` must never be one.
 */
const supportUrl: Parser<string> = (raw, name) => {
  let parsed: URL;
  try {
    parsed = new URL(raw.trim());
  } catch {
    return fail(`${name} must be an https://, http:// or mailto: URL, got "${raw}"`);
  }
  if (!['https:', 'http:', 'mailto:'].includes(parsed.protocol)) {
    fail(`${name} must start with https://, http:// or mailto:, got "${raw}"`);
  }
  if (parsed.protocol === 'mailto:' && !/^[^@\s]+@[^@\s]+$/.test(decodeURIComponentSafe(parsed.pathname))) {
    fail(`${name} must name an e-mail address after mailto:, got "${raw}"`);
  }
  return parsed.href;
};

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every setting, in the order `npm run settings-docs` writes them into the README's table and
 * .env.example, and `--help` lists them: each description is the README's text.
 */
export const SETTINGS: Setting<keyof Config>[] = [
  {
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    description:
      "`postgres://…` or `postgresql://…` connection string, with the libpq parameters managed providers hand out: `sslmode` (`disable`, `allow`, `prefer` (the default), `require`, `verify-ca`, `verify-full`, with libpq's meanings), `sslrootcert`, `sslcert`, `sslkey`, `application_name`, `options`, `connect_timeout`, `channel_binding`, `host`. May point at a connection pooler ([docs/deploy.md](docs/deploy.md#managed-postgresql-and-poolers)). Needed for several instances. Unset: the embedded database (PGlite, `PGLITE_DATA_DIR`).",
    parse: databaseUrl,
  },
  {
    key: 'databaseDirectUrl',
    env: 'DATABASE_DIRECT_URL',
    description:
      'A direct (unpooled) connection for what a transaction pooler cannot carry: LISTEN and migrations. Set it when `DATABASE_URL` is a pooler in transaction mode. Unset: `DATABASE_URL`.',
    parse: databaseUrl,
  },
  {
    key: 'databaseCaFile',
    env: 'DATABASE_CA_FILE',
    description:
      "Root certificate (PEM) the database's certificate must chain to, for `sslmode=verify-ca`/`verify-full`, when the URL has no `sslrootcert`.",
    parse: string,
  },
  {
    key: 'databaseStartupTimeoutSeconds',
    env: 'DATABASE_STARTUP_TIMEOUT_SECONDS',
    description:
      'At start-up, how long to wait for an unreachable database before giving up, so a server started a moment before its database still comes up.',
    default: '30',
    parse: integer(0, 3600),
  },
  {
    key: 'pgliteDataDir',
    env: 'PGLITE_DATA_DIR',
    description:
      "Where the embedded database lives; `memory` keeps it in memory. Ignored when `DATABASE_URL` is set. One process at a time: a second one on the same directory refuses to start (the lock file `postiz-cli-auth.lock` holds the owner's pid; one left by a process that no longer runs is taken over).",
    default: './.data/pglite',
    parse: string,
  },
  {
    key: 'upstream',
    env: 'UPSTREAM',
    description:
      'The provider this server bridges to: `postiz` (Postiz, with the `POSTIZ_…` settings), or `oauth`, any OAuth 2.0 / OpenID Connect authorization server (the `OAUTH_…` settings; [docs/providers.md](docs/providers.md)).',
    default: 'postiz',
    parse: oneOf(['postiz', 'oauth'] as const),
  },
  {
    key: 'clientId',
    env: 'POSTIZ_OAUTH_CLIENT_ID',
    profile: 'postiz',
    description: 'The `pca_…` (or `pcd_…`) client id of your Postiz OAuth app.',
    required: 'the pca_… id of your Postiz OAuth app',
    parse: prefixed(['pca_', 'pcd_'], 'the client id of your Postiz OAuth app'),
  },
  {
    key: 'clientSecret',
    env: 'POSTIZ_OAUTH_CLIENT_SECRET',
    profile: 'postiz',
    description: 'The `pcs_…` secret of your Postiz OAuth app. Never logged.',
    required: 'the pcs_… secret of your Postiz OAuth app',
    parse: prefixed(['pcs_'], 'the client secret of your Postiz OAuth app'),
  },
  { key: 'port', env: 'PORT', description: 'Listening port.', default: '3111', parse: integer(0, 65535) },
  { key: 'host', env: 'HOST', description: 'Listening address.', default: '0.0.0.0', parse: string },
  {
    key: 'serverUrl',
    env: 'SERVER_URL',
    description:
      "Public base URL. Every link, the callback URL, the `Origin` that forms must come from, and the cookies' `Secure`/`__Host-` form derive from it. May have a path behind a proxy that strips it (`https://example.com/cli-auth`).",
    default: (env) => `http://localhost:${env.PORT?.trim() || '3111'}`,
    parse: url(['http:', 'https:']),
  },
  {
    key: 'postizFrontendUrl',
    env: 'POSTIZ_FRONTEND_URL',
    description: "Where browsers are sent to authorize (also allowed in the CSP's `form-action`).",
    default: 'https://platform.postiz.com',
    parse: url(['http:', 'https:']),
  },
  {
    key: 'postizApiUrl',
    env: 'POSTIZ_API_URL',
    description: 'Where codes are exchanged. Also returned to the CLI as `api_url`.',
    default: 'https://api.postiz.com',
    parse: url(['http:', 'https:']),
  },
  {
    key: 'oauthIssuer',
    env: 'OAUTH_ISSUER',
    description:
      "With `UPSTREAM=oauth`: the provider's issuer URL; its endpoints are read from its metadata (OpenID Connect discovery, else RFC 8414) at start-up. Or set the endpoints below.",
    parse: url(['https:', 'http:']),
  },
  {
    key: 'oauthAuthorizationEndpoint',
    env: 'OAUTH_AUTHORIZATION_ENDPOINT',
    description:
      "With `UPSTREAM=oauth`: where browsers are sent to authorize (overrides the issuer's metadata). Each endpoint, set or read from the metadata, is an `https://` or `http://` URL without a fragment, called as written.",
    parse: providerEndpoint,
  },
  {
    key: 'oauthTokenEndpoint',
    env: 'OAUTH_TOKEN_ENDPOINT',
    description:
      "With `UPSTREAM=oauth`: where codes are exchanged and refresh tokens forwarded (overrides the issuer's metadata).",
    parse: providerEndpoint,
  },
  {
    key: 'oauthUserinfoEndpoint',
    env: 'OAUTH_USERINFO_ENDPOINT',
    description:
      "With `UPSTREAM=oauth`: the OpenID Connect userinfo endpoint, for `OAUTH_TOKEN_CHECK=userinfo` (overrides the issuer's metadata).",
    parse: providerEndpoint,
  },
  {
    key: 'oauthIntrospectionEndpoint',
    env: 'OAUTH_INTROSPECTION_ENDPOINT',
    description:
      "With `UPSTREAM=oauth`: the RFC 7662 introspection endpoint, for `OAUTH_TOKEN_CHECK=introspection` (overrides the issuer's metadata).",
    parse: providerEndpoint,
  },
  {
    key: 'oauthClientId',
    env: 'OAUTH_CLIENT_ID',
    description:
      "With `UPSTREAM=oauth`: this server's client id at the provider (a confidential client, its redirect URI `{SERVER_URL}/device/callback`).",
    required: 'the client id of this server at the OAuth provider',
    profile: 'oauth',
    parse: string,
  },
  {
    key: 'oauthClientSecret',
    env: 'OAUTH_CLIENT_SECRET',
    description: "With `UPSTREAM=oauth`: the client's secret. Never logged.",
    required: 'the client secret of this server at the OAuth provider',
    profile: 'oauth',
    parse: string,
  },
  {
    key: 'oauthClientAuth',
    env: 'OAUTH_CLIENT_AUTH',
    description:
      "With `UPSTREAM=oauth`: how the client authenticates at the token endpoint: `client_secret_basic` (HTTP Basic, RFC 6749 §2.3.1) or `client_secret_post` (in the form). Unset: `client_secret_basic`, unless the provider's metadata lists only `client_secret_post`.",
    parse: oneOf(['client_secret_basic', 'client_secret_post'] as const),
  },
  {
    key: 'oauthScopes',
    env: 'OAUTH_SCOPES',
    description:
      "With `UPSTREAM=oauth`: the scopes asked for, space-separated (`openid offline_access`: an ID token, which names the account on the pages, and a refresh token for the device; `offline_access` adds `prompt=consent`, as OpenID Connect asks). Unset: none (the provider's default).",
    parse: string,
  },
  {
    key: 'oauthTokenCheck',
    env: 'OAUTH_TOKEN_CHECK',
    description:
      "With `UPSTREAM=oauth`: how a new token is checked before it is handed over: `userinfo` (OpenID Connect), `introspection` (RFC 7662, with the client's credentials) or `none`. Unset: `userinfo` when `OAUTH_SCOPES` includes `openid` and the provider has a userinfo endpoint (without `openid`, providers refuse the userinfo request for a working token), else `none`.",
    parse: oneOf(['userinfo', 'introspection', 'none'] as const),
  },
  {
    key: 'oauthProviderName',
    env: 'OAUTH_PROVIDER_NAME',
    description:
      'With `UPSTREAM=oauth`: the provider\'s name on the pages ("Continue to Example"). Unset: the host of `OAUTH_AUTHORIZATION_ENDPOINT`, else of `OAUTH_ISSUER`.',
    parse: string,
  },
  {
    key: 'oauthClientName',
    env: 'OAUTH_CLIENT_NAME',
    description:
      'With `UPSTREAM=oauth`: the name of the program logging in, on the pages ("Connect Example CLI").',
    default: 'CLI',
    parse: string,
  },
  {
    key: 'oauthLoginCommand',
    env: 'OAUTH_LOGIN_COMMAND',
    description:
      'With `UPSTREAM=oauth`: the command that starts a login, when the program has one (`example login`): pages say to run it again, shown as code. Unset: they say to start a new login from the terminal.',
    parse: string,
  },
  {
    key: 'trustProxy',
    env: 'TRUST_PROXY',
    description:
      '`true`, a hop count, or a comma-separated list of addresses/CIDRs (or `loopback`, `linklocal`, `uniquelocal`): take the client address from `X-Forwarded-For`. A hop count `n` trusts the `n` nearest proxies ([docs/deploy.md](docs/deploy.md#behind-a-proxy-trust_proxy)).',
    default: 'false',
    parse: trustProxy,
  },
  {
    key: 'deviceCodeTtlSeconds',
    env: 'DEVICE_CODE_TTL_SECONDS',
    description: 'Lifetime of a device flow.',
    default: '900',
    parse: integer(60, 3600),
  },
  {
    key: 'pollIntervalSeconds',
    env: 'POLL_INTERVAL_SECONDS',
    description: 'The `interval` given to clients.',
    default: '5',
    parse: integer(1, 60),
  },
  {
    key: 'pollWaitSeconds',
    env: 'POLL_WAIT_SECONDS',
    description:
      'How long a pending poll is held open when the client sends no `Prefer: wait=N` (0 answers at once). A held poll answers the moment its flow changes, so the `postiz` CLI, which sleeps 5 s between polls, learns of an approval at once instead of up to 5 s later. 10 s stays well under the 30 s timeouts of common HTTP clients and proxies.',
    default: '10',
    parse: integer(0, 20),
  },
  {
    key: 'logLevel',
    env: 'LOG_LEVEL',
    description: 'pino level: `fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`.',
    default: 'info',
    parse: oneOf(LOG_LEVELS),
  },
  {
    key: 'logFormat',
    env: 'LOG_FORMAT',
    description: '`json` (one line per event) or `pretty` for development.',
    default: 'json',
    parse: oneOf(['json', 'pretty'] as const),
  },
  {
    key: 'upstreamTimeoutMs',
    env: 'UPSTREAM_TIMEOUT_MS',
    description: 'How long to wait for the provider when exchanging a code (or forwarding a refresh).',
    default: '8000',
    parse: integer(100, 60000),
  },
  {
    key: 'tokenCheckTimeoutMs',
    env: 'TOKEN_CHECK_TIMEOUT_MS',
    description:
      "How long to wait for the provider (Postiz's public API; with `UPSTREAM=oauth`, the userinfo or introspection endpoint) when checking a new token before it is handed over (0: no check). A token Postiz refuses (an organisation without a subscription, or another 401/403) ends the login with an error the CLI prints (`postiz_subscription_required`, `postiz_refused_token`) and a page that says what to do; a check that gets no answer in time hands the token over and says it could not be checked ([docs/postiz.md](docs/postiz.md#what-the-server-asks-postiz-and-why)).",
    default: '3000',
    parse: integer(0, 60000),
  },
  {
    key: 'crossNetworkPolicy',
    env: 'CROSS_NETWORK_POLICY',
    description:
      'When the browser confirming a login is on another network than the device that asked (another IPv4 /24 or IPv6 /64): `warn` (a warning; one click goes on), `type-code` (a code that came in the link must be typed from the terminal; typed by hand on the entry page, one click), or `block` (refused, and the login ends: the CLI stops with `access_denied`, and the page says to run the CLI on this computer). RFC clients may still use `verification_uri_complete`: the policy is about how the browser confirms ([docs/security.md](docs/security.md#the-confirmation-page-rfc-8628-54)).',
    default: 'type-code',
    parse: oneOf(['warn', 'type-code', 'block'] as const),
  },
  {
    key: 'loginHistoryDays',
    env: 'LOGIN_HISTORY_DAYS',
    description:
      "How long the last CLI login approved in each browser is kept (when, the device's address, what it said it is, the organisation; sealed under a secret only that browser holds, drawn anew at each login), so that the browser's next login says which one it may end; no other browser is ever shown it (0 keeps none) ([docs/security.md](docs/security.md#what-is-stored)).",
    default: '90',
    parse: integer(0, 3650),
  },
  {
    key: 'auditRetentionDays',
    env: 'AUDIT_RETENTION_DAYS',
    description:
      "How long the audit trail keeps the record of each login that got a token from the provider (when, how it ended and why, the organisation as a keyed hash and sealed, the device's address and what it said it is, how the browser confirmed, which instance), read with `postiz-cli-auth logins` ([docs/deploy.md](docs/deploy.md#audit-trail-and-webhooks)). Events anyone can cause without an account (expired, cancelled, denied, blocked, failed) are kept a day at most.",
    default: '90',
    parse: integer(1, 3650),
  },
  {
    key: 'webhookUrls',
    env: 'WEBHOOK_URL',
    description:
      'Where each login event is POSTed as a signed Standard Webhooks message (one URL, or several separated by commas, each called as written, query string included; credentials percent-encoded, sent as HTTP Basic; logs and the outbox never hold a URL, only its scheme, host and port and a tag of its hash), from a transactional outbox: at least once, retried with backoff for a day, a receiver that is down never slowing a login. Unset: no webhooks ([docs/deploy.md](docs/deploy.md#audit-trail-and-webhooks)).',
    default: '',
    parse: urlList,
  },
  {
    key: 'webhookSecret',
    env: 'WEBHOOK_SECRET',
    description:
      'The Standard Webhooks signing secret (`whsec_` and base64), required with `WEBHOOK_URL`; receivers verify `webhook-signature` with it. Never logged.',
    parse: webhookSecret,
  },
  {
    key: 'webhookTimeoutMs',
    env: 'WEBHOOK_TIMEOUT_MS',
    description:
      'How long a webhook receiver may take to answer before the attempt counts as failed and is retried.',
    default: '10000',
    parse: integer(100, 120000),
  },
  {
    key: 'shutdownTimeoutMs',
    env: 'SHUTDOWN_TIMEOUT_MS',
    description: 'On SIGTERM/SIGINT, how long in-flight requests may take before the process exits.',
    default: '10000',
    parse: integer(0, 120000),
  },
  {
    key: 'purgeIntervalSeconds',
    env: 'PURGE_INTERVAL_SECONDS',
    description: 'How often expired flows and old rate-limit windows are deleted.',
    default: '60',
    parse: integer(1, 3600),
  },
  {
    key: 'userCodeAttempts',
    env: 'RATE_LIMIT_USER_CODE_ATTEMPTS',
    description: 'Wrong user codes allowed per client address per window.',
    default: '10',
    parse: integer(1, 100000),
  },
  {
    key: 'userCodeWindowSeconds',
    env: 'RATE_LIMIT_USER_CODE_WINDOW_SECONDS',
    description: 'The window for wrong user codes.',
    default: '900',
    parse: integer(1, 86400),
  },
  {
    key: 'userCodeGlobalAttempts',
    env: 'RATE_LIMIT_USER_CODE_GLOBAL',
    description:
      "Wrong user codes allowed from all addresses together per window. Past it, addresses that made four attempts in the window are refused until it ends; an address's first four attempts are always looked up, so others' guessing never stops a user typing the right code, even after a few typos (right codes do not count). IPv6 addresses count per /64, and each /48 gets ten times `RATE_LIMIT_USER_CODE_ATTEMPTS`.",
    default: '1000',
    parse: integer(1, 10000000),
  },
  {
    key: 'flowStartLimit',
    env: 'RATE_LIMIT_FLOW_STARTS',
    description: 'Flows a client address may start per window.',
    default: '30',
    parse: integer(1, 1000000),
  },
  {
    key: 'flowStartWindowSeconds',
    env: 'RATE_LIMIT_FLOW_STARTS_WINDOW_SECONDS',
    description: 'The window for flow starts.',
    default: '600',
    parse: integer(1, 86400),
  },
  {
    key: 'unknownPollLimit',
    env: 'RATE_LIMIT_UNKNOWN_POLLS',
    description: 'Polls with unknown device codes allowed per client address per window.',
    default: '60',
    parse: integer(1, 1000000),
  },
  {
    key: 'unknownPollWindowSeconds',
    env: 'RATE_LIMIT_UNKNOWN_POLLS_WINDOW_SECONDS',
    description: 'The window for polls with unknown device codes.',
    default: '600',
    parse: integer(1, 86400),
  },
  {
    key: 'refreshLimit',
    env: 'RATE_LIMIT_REFRESHES',
    description:
      'With a provider that issues refresh tokens (`UPSTREAM=oauth`): refresh requests forwarded per client address per window (an IPv6 /48 counts as one address; `grant_type=refresh_token` at `/device/token`, sent on with the client secret).',
    default: '60',
    parse: integer(1, 1000000),
  },
  {
    key: 'refreshWindowSeconds',
    env: 'RATE_LIMIT_REFRESHES_WINDOW_SECONDS',
    description: 'The window for forwarded refresh requests.',
    default: '600',
    parse: integer(1, 86400),
  },
  {
    key: 'refreshGlobalLimit',
    env: 'RATE_LIMIT_REFRESHES_GLOBAL',
    description:
      "Refresh requests forwarded per window from all addresses together, so that any number of addresses cannot turn this server and its client secret into load on the provider. Past it, only addresses past their first four refreshes in the window are refused: others' flooding never stops a CLI refreshing its token.",
    default: '1000',
    parse: integer(1, 1000000),
  },
  {
    key: 'codeBurnLimit',
    env: 'RATE_LIMIT_CODE_BURNS',
    description:
      'Refused callbacks per client address per window whose code the server also redeems and throws away at the provider, as defence in depth: a code first seen at a refused callback is never exchanged anyway ([docs/security.md](docs/security.md#a-leaked-postiz-code-is-worthless)). Past it, such codes are only refused (and counted in `postiz_cli_auth_codes_burned_total{result="limited"}`). Only well-formed codes are redeemed, at their first sighting, never for a browser\'s sub-resource request (`Sec-Fetch-Dest` other than `document`).',
    default: '10',
    parse: integer(1, 100000),
  },
  {
    key: 'codeBurnWindowSeconds',
    env: 'RATE_LIMIT_CODE_BURNS_WINDOW_SECONDS',
    description: 'The window for burned codes.',
    default: '900',
    parse: integer(1, 86400),
  },
  {
    key: 'codeBurnGlobalLimit',
    env: 'RATE_LIMIT_CODE_BURNS_GLOBAL',
    description:
      "Codes burned at the provider per window from all addresses together, so that junk callbacks from any number of addresses cannot turn this server into load on the provider's token endpoint.",
    default: '100',
    parse: integer(1, 1000000),
  },
  {
    key: 'requestTimeoutMs',
    env: 'REQUEST_TIMEOUT_MS',
    description:
      'How long a client may take to send a whole request, headers and body. Past it the server answers 408 and closes the connection, so a client trickling bytes cannot hold one open. Answers are not limited by it: a held poll may take up to 20 s.',
    default: '10000',
    parse: integer(1000, 120000),
  },
  {
    key: 'headersTimeoutMs',
    env: 'HEADERS_TIMEOUT_MS',
    description:
      'How long a client may take to send the request headers (1000–120000, at most `REQUEST_TIMEOUT_MS`).',
    default: '5000',
    parse: integer(1000, 120000),
  },
  {
    key: 'connectionTimeoutMs',
    env: 'CONNECTION_TIMEOUT_MS',
    description:
      'How long a connection may stay silent while a request is open (21000–600000: above the longest held poll, 20 s). Idle keep-alive connections are closed after 72 s.',
    default: '30000',
    parse: integer(21000, 600000),
  },
  {
    key: 'maxHeldPollsPerAddress',
    env: 'MAX_HELD_POLLS_PER_ADDRESS',
    description:
      'Polls held open at once per client address (0 holds none). Further polls from it are answered at once, which costs a client only the instant delivery. A second poll of the same device code answers the held one instead of holding both.',
    default: '20',
    parse: integer(0, 100000),
  },
  {
    key: 'maxPendingFlows',
    env: 'MAX_PENDING_FLOWS',
    description:
      "Live flows waiting for their user, from all addresses together. When it is full, a new flow takes the place of the oldest flow of the network (IPv4 address, IPv6 /48) holding the most among 32 live flows sampled at random, if that network holds more than 10 (an office behind one NAT never loses its flows) and at least two more than the newcomer's; otherwise `POST /device/code` answers 503 `temporarily_unavailable` with `Retry-After` saying when a live flow expires. Exact on one instance; with several, it may be passed by what the others start within about a second ([docs/security.md](docs/security.md#denial-of-service)).",
    default: '100000',
    parse: integer(1, 100000000),
  },
  {
    key: 'listenBacklog',
    env: 'LISTEN_BACKLOG',
    description:
      "Connections the kernel queues for the server before it accepts them (Linux caps it at `net.core.somaxconn`, 4096 by default). Thousands of waiting CLIs reconnecting at once, after a restart or a network blip, overflow Node's default of 511, and their requests then arrive late.",
    default: '4096',
    parse: integer(1, 65535),
  },
  {
    key: 'metricsToken',
    env: 'METRICS_TOKEN',
    description: 'When set, `/metrics` requires `Authorization: Bearer <token>`.',
    parse: string,
  },
  {
    key: 'databasePoolSize',
    env: 'DATABASE_POOL_SIZE',
    description: 'Connections per instance in the PostgreSQL pool, plus one LISTEN connection per instance.',
    default: '10',
    parse: integer(1, 200),
  },
  {
    key: 'supportUrl',
    env: 'SUPPORT_URL',
    description:
      'Where people reach whoever runs this server: an `https://` or `http://` page, or a `mailto:` address. When set, every page links to it in its footer ("Contact help.example.com"), and so do the pages a person cannot get past alone (this server refused by the provider, a login refused from another network, too many attempts, a server error, the provider failing). Unset: no page offers a contact.',
    parse: supportUrl,
  },
];

/**
 * Parse settings from `env` (default `process.env`); throws `ConfigError` on the first bad
 * value. `requireCredentials: false` (for `migrate`) lets the Postiz app's id and secret be unset.
 */
export function loadConfig(env: Env = process.env, options: { requireCredentials?: boolean } = {}): Config {
  const requireCredentials = options.requireCredentials ?? true;
  const out: Partial<Record<keyof Config, unknown>> = {};
  for (const setting of SETTINGS) {
    const raw = env[setting.env];
    const given = raw !== undefined && raw.trim() !== '' ? raw : undefined;
    const fallback = typeof setting.default === 'function' ? setting.default(env) : setting.default;
    const value = given ?? fallback;
    if (value === undefined) {
      const profile = env.UPSTREAM?.trim().toLowerCase() || 'postiz';
      const needed =
        setting.required && requireCredentials && (!setting.profile || setting.profile === profile);
      if (needed)
        fail(
          `${setting.env} is required${setting.profile === 'oauth' ? ' with UPSTREAM=oauth' : ''} (${setting.required})`,
        );
      out[setting.key] = undefined;
      continue;
    }
    out[setting.key] = setting.parse(value, setting.env);
  }
  const config = out as Config;
  const problem = hostProblem(config.host) ?? embeddedDatabaseProblem(config, env);
  if (problem) fail(problem);
  if (
    config.upstream === 'oauth' &&
    !config.oauthIssuer &&
    !(config.oauthAuthorizationEndpoint && config.oauthTokenEndpoint)
  ) {
    fail(
      "UPSTREAM=oauth needs OAUTH_ISSUER (its endpoints are read from the provider's metadata), or OAUTH_AUTHORIZATION_ENDPOINT and OAUTH_TOKEN_ENDPOINT",
    );
  }
  if (config.webhookUrls.length > 0 && !config.webhookSecret) {
    fail(
      'WEBHOOK_URL is set but WEBHOOK_SECRET is not: every webhook is signed (a whsec_… secret, see docs/deploy.md)',
    );
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    fail(
      `HEADERS_TIMEOUT_MS (${config.headersTimeoutMs}) must not be greater than REQUEST_TIMEOUT_MS (${config.requestTimeoutMs})`,
    );
  }
  return config;
}

/** Read `.env` from the working directory into `process.env` (existing variables win). */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

/** The config without secrets, for logging at start-up. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    clientSecret: '[set]',
    metricsToken: config.metricsToken ? '[set]' : undefined,
    webhookSecret: config.webhookSecret ? '[set]' : undefined,
    oauthClientSecret: config.oauthClientSecret ? '[set]' : undefined,
    // Shown by origin and a tag keyed with the secret (src/webhooks/endpoint.ts); no secret, no webhooks.
    webhookUrls: config.webhookUrls.map((url) => endpoint(url, config.webhookSecret ?? '').shown),
    databaseUrl: config.databaseUrl ? redactDatabaseUrl(config.databaseUrl) : undefined,
    databaseDirectUrl: config.databaseDirectUrl ? redactDatabaseUrl(config.databaseDirectUrl) : undefined,
  };
}
