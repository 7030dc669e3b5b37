/**
 * One schema for every setting: each entry names its variable, its default, what it means,
 * and how it is parsed. `loadConfig` reads the environment once; a bad value throws a
 * `ConfigError` whose message is the one line an operator needs.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { embeddedDatabaseProblem, hostProblem, proxyEntryProblem } from './guardrails.js';
import { parseDatabaseUrl, redactDatabaseUrl } from './storage/connection.js';

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
  clientId: string;
  clientSecret: string;
  port: number;
  host: string;
  serverUrl: string;
  postizFrontendUrl: string;
  postizApiUrl: string;
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
  shutdownTimeoutMs: number;
  purgeIntervalSeconds: number;
  userCodeAttempts: number;
  userCodeWindowSeconds: number;
  userCodeGlobalAttempts: number;
  flowStartLimit: number;
  flowStartWindowSeconds: number;
  unknownPollLimit: number;
  unknownPollWindowSeconds: number;
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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every setting, in the order the README documents them. */
export const SETTINGS: Setting<keyof Config>[] = [
  {
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    description:
      '`postgres://…` connection string, with libpq parameters (`sslmode`, `sslrootcert`, `application_name`, `options`, …); may point at a connection pooler. Unset → the embedded database (PGlite).',
    parse: databaseUrl,
  },
  {
    key: 'databaseDirectUrl',
    env: 'DATABASE_DIRECT_URL',
    description:
      'A direct (unpooled) connection for what a transaction pooler cannot carry: LISTEN and migrations. Unset → `DATABASE_URL`.',
    parse: databaseUrl,
  },
  {
    key: 'databaseCaFile',
    env: 'DATABASE_CA_FILE',
    description:
      "Root certificate (PEM file) the database server's certificate must chain to, for `sslmode=verify-ca` or `verify-full`, when the URL has no `sslrootcert`.",
    parse: string,
  },
  {
    key: 'databaseStartupTimeoutSeconds',
    env: 'DATABASE_STARTUP_TIMEOUT_SECONDS',
    description:
      'At start-up, how long to wait for an unreachable database before giving up (0 gives up at once). A server started a moment before its database still comes up.',
    default: '30',
    parse: integer(0, 3600),
  },
  {
    key: 'pgliteDataDir',
    env: 'PGLITE_DATA_DIR',
    description: 'Where the embedded database lives; `memory` keeps it in memory.',
    default: './.data/pglite',
    parse: string,
  },
  {
    key: 'clientId',
    env: 'POSTIZ_OAUTH_CLIENT_ID',
    description: 'The `pca_…` (or `pcd_…`) client id of your Postiz OAuth app.',
    required: 'the pca_… id of your Postiz OAuth app',
    parse: prefixed(['pca_', 'pcd_'], 'the client id of your Postiz OAuth app'),
  },
  {
    key: 'clientSecret',
    env: 'POSTIZ_OAUTH_CLIENT_SECRET',
    description: 'The `pcs_…` secret of your Postiz OAuth app. Never logged.',
    required: 'the pcs_… secret of your Postiz OAuth app',
    parse: prefixed(['pcs_'], 'the client secret of your Postiz OAuth app'),
  },
  { key: 'port', env: 'PORT', description: 'Listening port.', default: '3111', parse: integer(0, 65535) },
  { key: 'host', env: 'HOST', description: 'Listening address.', default: '0.0.0.0', parse: string },
  {
    key: 'serverUrl',
    env: 'SERVER_URL',
    description: 'Public base URL; all links and the callback URL derive from it.',
    default: (env) => `http://localhost:${env.PORT?.trim() || '3111'}`,
    parse: url(['http:', 'https:']),
  },
  {
    key: 'postizFrontendUrl',
    env: 'POSTIZ_FRONTEND_URL',
    description: 'Where browsers are sent to authorize.',
    default: 'https://platform.postiz.com',
    parse: url(['http:', 'https:']),
  },
  {
    key: 'postizApiUrl',
    env: 'POSTIZ_API_URL',
    description: 'Where codes are exchanged; also returned to the CLI as `api_url`.',
    default: 'https://api.postiz.com',
    parse: url(['http:', 'https:']),
  },
  {
    key: 'trustProxy',
    env: 'TRUST_PROXY',
    description: '`true` (or a hop count / CIDR list): take the client address from `X-Forwarded-For`.',
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
      'How long a pending poll is held open for clients that do not send `Prefer: wait=N` (0 answers at once). ' +
      'Held polls answer the moment the flow changes, so the postiz CLI learns of an approval at once instead of ' +
      'up to 5 s later; 10 s stays well under the 30 s timeouts of common HTTP clients and proxies.',
    default: '10',
    parse: integer(0, 20),
  },
  {
    key: 'logLevel',
    env: 'LOG_LEVEL',
    description: 'pino level.',
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
    description: 'How long to wait for Postiz when exchanging a code.',
    default: '8000',
    parse: integer(100, 60000),
  },
  {
    key: 'tokenCheckTimeoutMs',
    env: 'TOKEN_CHECK_TIMEOUT_MS',
    description:
      "How long to wait for Postiz's public API when checking a new token before handing it over (0: no check). A token Postiz refuses (an organisation without a subscription) ends the login with an error the CLI prints; a check that gets no answer in time hands the token over and says it could not be checked.",
    default: '3000',
    parse: integer(0, 60000),
  },
  {
    key: 'crossNetworkPolicy',
    env: 'CROSS_NETWORK_POLICY',
    description:
      'When the browser confirming a login is on another network than the device that asked: `warn` (a warning, one click goes on), `type-code` (a code that came in a link must be typed from the terminal), or `block` (refused).',
    default: 'type-code',
    parse: oneOf(['warn', 'type-code', 'block'] as const),
  },
  {
    key: 'loginHistoryDays',
    env: 'LOGIN_HISTORY_DAYS',
    description:
      "How long the last login delivered for each Postiz organisation is kept (when, the device's address and what it said it is), to tell the next login which one it replaced (0 keeps none).",
    default: '90',
    parse: integer(0, 3650),
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
    description: 'How often expired flows and rate-limit windows are deleted.',
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
      'Wrong user codes allowed from all addresses together per window; past it, every address is refused until the window ends (right codes do not count).',
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
    key: 'codeBurnLimit',
    env: 'RATE_LIMIT_CODE_BURNS',
    description:
      'Refused callbacks per client address per window whose Postiz code this server also redeems and discards at Postiz (defence in depth: a code first seen at a refused callback is never exchanged anyway); past it, such codes are only refused.',
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
      'Codes burned at Postiz per window from all addresses together, so that junk callbacks from many addresses cannot turn this server into load on Postiz.',
    default: '100',
    parse: integer(1, 1000000),
  },
  {
    key: 'requestTimeoutMs',
    env: 'REQUEST_TIMEOUT_MS',
    description:
      'How long a client may take to send a whole request (headers and body); past it, 408 and the connection is closed. Answers are not limited by it: a held poll may take up to 20 s.',
    default: '10000',
    parse: integer(1000, 120000),
  },
  {
    key: 'headersTimeoutMs',
    env: 'HEADERS_TIMEOUT_MS',
    description: 'How long a client may take to send the request headers (at most `REQUEST_TIMEOUT_MS`).',
    default: '5000',
    parse: integer(1000, 120000),
  },
  {
    key: 'connectionTimeoutMs',
    env: 'CONNECTION_TIMEOUT_MS',
    description:
      'How long a connection may stay silent while a request is open before it is closed. Above 20 s, the longest a poll is ever held.',
    default: '30000',
    parse: integer(21000, 600000),
  },
  {
    key: 'maxHeldPollsPerAddress',
    env: 'MAX_HELD_POLLS_PER_ADDRESS',
    description:
      'Polls held open at once per client address; further polls from it are answered at once (0 holds none). A second poll of the same device code answers the held one.',
    default: '20',
    parse: integer(0, 100000),
  },
  {
    key: 'maxPendingFlows',
    env: 'MAX_PENDING_FLOWS',
    description:
      'Live flows waiting for their user, from all addresses; past it, new flows get 503 with `Retry-After`. Exact on one instance; across instances it may be passed by the starts of about a second.',
    default: '100000',
    parse: integer(1, 100000000),
  },
  {
    key: 'listenBacklog',
    env: 'LISTEN_BACKLOG',
    description:
      "Connections the kernel queues for the server before it accepts them (the listen backlog; Linux caps it at net.core.somaxconn). Thousands of waiting CLIs reconnecting at once (after a restart or a network blip) overflow Node's default of 511.",
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
    description: 'Connections per instance in the PostgreSQL pool.',
    default: '10',
    parse: integer(1, 200),
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
      if (setting.required && requireCredentials) fail(`${setting.env} is required (${setting.required})`);
      out[setting.key] = undefined;
      continue;
    }
    out[setting.key] = setting.parse(value, setting.env);
  }
  const config = out as Config;
  const problem = hostProblem(config.host) ?? embeddedDatabaseProblem(config, env);
  if (problem) fail(problem);
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
    databaseUrl: config.databaseUrl ? redactDatabaseUrl(config.databaseUrl) : undefined,
    databaseDirectUrl: config.databaseDirectUrl ? redactDatabaseUrl(config.databaseDirectUrl) : undefined,
  };
}
