/**
 * `DATABASE_URL` as PostgreSQL users write it: the URL form of a libpq connection string,
 * with the parameters managed providers hand out (`?sslmode=require`, `sslrootcert`,
 * `application_name`, `options`, …) and their libpq meanings (docs/deploy.md, "Managed
 * PostgreSQL"). Parsed here rather than by `pg`, whose own reading of `sslmode=require` is
 * verify-full: a URL copied from a provider's console must do what libpq would do with it.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';

/** libpq's `sslmode` values (https://www.postgresql.org/docs/current/libpq-ssl.html). */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** What the server understands in a connection URL's query string. */
const PARAMETERS = new Set([
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'application_name',
  'options',
  'connect_timeout',
  'channel_binding',
  'host',
  'port',
  'user',
  'password',
  'dbname',
]);
/**
 * Parameters other tools add to the URLs they hand out, meaningless to a PostgreSQL
 * connection itself (Prisma's pooler hints); accepted and ignored, so such a URL works as is.
 */
const FOREIGN = new Set(['pgbouncer', 'connection_limit', 'pool_timeout', 'schema']);

/** A database URL, checked and taken apart; `described` is safe to log (no password). */
export interface DatabaseTarget {
  host: string;
  port: number;
  user: string | undefined;
  password: string | undefined;
  database: string | undefined;
  sslmode: SslMode;
  /** Files named in the URL (read when connecting). */
  sslrootcert: string | undefined;
  sslcert: string | undefined;
  sslkey: string | undefined;
  applicationName: string | undefined;
  options: string | undefined;
  connectTimeoutMs: number | undefined;
  channelBinding: 'disable' | 'prefer' | 'require';
  described: string;
}

/** The URL with its password replaced, for messages and logs; a URL that does not parse at all says only that. */
export function redactDatabaseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (key === 'password') url.searchParams.set(key, '***');
    }
    return url.href;
  } catch {
    return '(a URL that does not parse)';
  }
}

/**
 * The likely cause when a URL does not parse as meant: a user name or password with a
 * character that URLs reserve. Said without repeating the URL, which holds the password.
 */
function encodingHint(raw: string): string {
  const credentials = /^[a-z]+:\/\/(.*)@/i.exec(raw)?.[1] ?? '';
  const reserved = [...new Set(credentials.match(/[#/?@:%[\] ]/g) ?? [])].filter(
    // One ':' separates user and password; '%' is fine when it starts an escape.
    (c) =>
      !(c === ':' && credentials.split(':').length === 2) &&
      !(c === '%' && !/%(?![0-9a-f]{2})/i.test(credentials)),
  );
  if (reserved.length === 0) return '';
  return ` (the user name or password holds ${reserved.join(' ')}: percent-encode it, # as %23, / as %2F, ? as %3F, @ as %40, : as %3A, % as %25)`;
}

/**
 * Check and take apart a `postgres://` or `postgresql://` URL. Throws an `Error` whose message
 * names `name` and what is wrong, and never contains the password.
 */
export function parseDatabaseUrl(raw: string, name: string): DatabaseTarget {
  const fail = (why: string): never => {
    throw new Error(`${name} ${why}`);
  };
  let url: URL;
  // libpq allows an empty host with `?host=/socket/dir`; WHATWG URLs do not, so a stand-in
  // host parses it, and `host` must then come from the query string.
  const hostless = /^[a-z]+:\/\/([^/@]*@)?\//i.test(raw);
  try {
    url = new URL(hostless ? raw.replace(/^([a-z]+:\/\/(?:[^/@]*@)?)\//i, '$1unset-host/') : raw);
  } catch {
    return fail(`must be a URL such as postgres://user:password@host:5432/database${encodingHint(raw)}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    fail(`must start with postgres: or postgresql:, got "${url.protocol}"`);
  }
  if (url.hash) fail(`must not have a #fragment${encodingHint(raw)}`);
  // A / in the password ends the host early and leaves the rest, with its @, in the path.
  if (/@/.test(url.pathname)) fail(`has an @ after its host${encodingHint(raw)}`);
  const params = url.searchParams;
  for (const key of new Set(params.keys())) {
    if (params.getAll(key).length > 1) fail(`has the parameter "${key}" twice`);
    if (!PARAMETERS.has(key) && !FOREIGN.has(key)) {
      fail(`has an unknown parameter "${key}" (understood: ${[...PARAMETERS].join(', ')})`);
    }
  }
  const sslmode = (params.get('sslmode') ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslmode)) fail(`has sslmode=${sslmode}; use one of ${SSL_MODES.join(', ')}`);
  const channelBinding = (params.get('channel_binding') ?? 'prefer') as DatabaseTarget['channelBinding'];
  if (!['disable', 'prefer', 'require'].includes(channelBinding)) {
    fail(`has channel_binding=${channelBinding}; use disable, prefer or require`);
  }
  const portText = params.get('port') ?? (url.port || '5432');
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) fail('has a port that is not a number');
  const timeoutText = params.get('connect_timeout');
  if (timeoutText !== null && !/^\d{1,6}$/.test(timeoutText))
    fail('has a connect_timeout that is not a whole number of seconds');
  const decode = (value: string): string => {
    try {
      return decodeURIComponent(value);
    } catch {
      return fail('has a badly %-encoded part');
    }
  };
  const host = params.get('host') ?? (hostless ? '' : decode(url.hostname.replace(/^\[(.*)\]$/, '$1')));
  if (!host) fail('has no host');
  const path = decode(url.pathname.slice(1));
  return {
    host,
    port: Number(portText),
    user: params.get('user') ?? (url.username ? decode(url.username) : undefined),
    password: params.get('password') ?? (url.password ? decode(url.password) : undefined),
    database: params.get('dbname') ?? (path || undefined),
    sslmode,
    sslrootcert: params.get('sslrootcert') ?? undefined,
    sslcert: params.get('sslcert') ?? undefined,
    sslkey: params.get('sslkey') ?? undefined,
    applicationName: params.get('application_name') ?? undefined,
    options: params.get('options') ?? undefined,
    connectTimeoutMs: timeoutText === null ? undefined : Number(timeoutText) * 1000,
    channelBinding,
    described: redactDatabaseUrl(raw),
  };
}

/**
 * The TLS options for a target, with libpq's meanings:
 * - `disable`: no TLS; `allow`/`prefer`: TLS without checks when the server wants or offers it
 *   (decided by a first connection, see `postgres.ts`);
 * - `require`: TLS, the certificate not checked, unless a root certificate is given, when it
 *   is `verify-ca` (as libpq does);
 * - `verify-ca`: the certificate must chain to the root certificate, any host name;
 * - `verify-full`: that, and the host name must match the certificate.
 * The root certificate is `sslrootcert` from the URL, else `caFile` (`DATABASE_CA_FILE`);
 * `sslrootcert=system`, or none with `verify-full`, uses the system's trusted roots.
 */
export function tlsOptions(target: DatabaseTarget, caFile: string | undefined): ConnectionOptions | false {
  const read = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(
        `cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  if (target.sslmode === 'disable') return false;
  const rootFile = target.sslrootcert ?? caFile;
  const ca = rootFile && rootFile !== 'system' ? read(rootFile, 'root certificate') : undefined;
  const options: ConnectionOptions = {
    ...(ca ? { ca } : {}),
    ...(target.sslcert ? { cert: read(target.sslcert, 'client certificate') } : {}),
    ...(target.sslkey ? { key: read(target.sslkey, 'client key') } : {}),
  };
  const mode = target.sslmode === 'require' && rootFile ? 'verify-ca' : target.sslmode;
  switch (mode) {
    case 'verify-full':
      return { ...options, rejectUnauthorized: true };
    case 'verify-ca':
      if (!rootFile)
        throw new Error(
          'sslmode=verify-ca needs a root certificate: sslrootcert in the URL, or DATABASE_CA_FILE',
        );
      // The chain is checked; the host name is not (that is verify-full).
      return { ...options, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    default:
      return { ...options, rejectUnauthorized: false };
  }
}

/** `pg` client settings for a target, with TLS `ssl` already decided. */
export function clientConfig(target: DatabaseTarget, ssl: ConnectionOptions | false): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    ssl,
    application_name: target.applicationName ?? 'postiz-cli-auth',
    options: target.options,
    connectionTimeoutMillis: target.connectTimeoutMs ?? 5000,
    enableChannelBinding: target.channelBinding === 'require',
  } as pg.ClientConfig;
}
