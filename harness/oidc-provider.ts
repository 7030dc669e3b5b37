/**
 * A real OpenID Connect authorization server that nobody on this project wrote, panva's
 * `oidc-provider`, started in process on 127.0.0.1 for the tests of the generic profile
 * (`UPSTREAM=oauth`, docs/providers.md). Its own login and consent pages (`devInteractions`)
 * take any login that names one of its accounts, and any password. It registers two
 * confidential clients for one redirect URI, one per client authentication method, offers
 * introspection and revocation, and keeps what it issues in memory of its own, which the tests
 * can read.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import Provider from 'oidc-provider';
import type { Config } from '../src/config.js';
import { codeChallenge } from '../src/device-flow/pkce.js';
import { createLogger } from '../src/logger.js';
import { type RunningServer, startServer } from '../src/server.js';
import type { Store } from '../src/storage/store.js';
import type { Grant, Upstream } from '../src/upstream/upstream.js';
import { testConfig } from './build.js';
import { formOf } from './forms.js';
import { freePort } from './ports.js';
import { defer } from './processes.js';
import { type Page, Walker } from './walker.js';

/** A person with an account at the provider; `id` is the login its login page takes, and the `sub`. */
export interface OidcAccount {
  id: string;
  name: string;
  email: string;
}

/** A client registered at the provider. */
export interface OidcClient {
  clientId: string;
  clientSecret: string;
  auth: 'client_secret_basic' | 'client_secret_post';
}

/** The accounts every test provider has. */
export const OIDC_ACCOUNTS: readonly OidcAccount[] = [
  { id: 'ada', name: 'Ada Lovelace', email: 'ada@example.test' },
  { id: 'grace', name: 'Grace Hopper', email: 'grace@example.test' },
];

/**
 * The secret of the client that authenticates with HTTP Basic: characters that RFC 6749
 * §2.3.1's form-encoding changes (a space, `+`, `:`, `%`, `/`), so a client that skipped the
 * encoding would be refused.
 */
const BASIC_SECRET = `s3cret +:%/${randomBytes(12).toString('base64url')}`;

export interface OidcProvider {
  /** `http://127.0.0.1:<port>`: its issuer, and where it listens. */
  issuer: string;
  /** `cli-auth` (client_secret_basic) and `cli-auth-post` (client_secret_post), both for `redirectUri`. */
  clients: { basic: OidcClient; post: OidcClient };
  accounts: readonly OidcAccount[];
  /** What its userinfo endpoint answers for an access token. */
  userinfo(accessToken: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Revoke a token at its revocation endpoint (RFC 7009), as `client` (the Basic one by default). */
  revoke(token: string, hint?: 'access_token' | 'refresh_token', client?: OidcClient): Promise<void>;
  /** The values of the tokens of `kind` it holds now (issued, not expired, not revoked or consumed). */
  live(kind: 'AccessToken' | 'RefreshToken' | 'AuthorizationCode'): string[];
  /** The requests its token endpoint has had: the grant, and how the client sent its secret. */
  tokenRequests(): TokenRequest[];
  /** Stop listening (and drop every connection); what it issued is kept, and `start()` listens again. */
  stop(): Promise<void>;
  /** Listen again on the same port, after `stop()`. */
  start(): Promise<void>;
}

/** A request at the token endpoint, as the provider read it. */
export interface TokenRequest {
  grantType: string | undefined;
  /** `basic`: in the Authorization header; `post`: in the form; `none`: not sent. */
  secretSent: 'basic' | 'post' | 'none';
}

/** A stored model: its payload and when it expires (ms, or never). */
interface Entry {
  model: string;
  payload: Record<string, unknown>;
  expiresAt: number | undefined;
}

/**
 * Storage for one provider (the package's own in-memory adapter is shared by every provider in
 * the process, and prints a warning): a map, scanned for the look-ups by uid, user code and grant.
 */
function memoryAdapter(entries: Map<string, Entry>) {
  const live = (entry: Entry | undefined): Entry | undefined =>
    entry && (entry.expiresAt === undefined || entry.expiresAt > Date.now()) ? entry : undefined;
  const where = (model: string, test: (payload: Record<string, unknown>) => boolean) => {
    for (const entry of entries.values())
      if (entry.model === model && live(entry) && test(entry.payload)) return entry.payload;
    return undefined;
  };
  return class MemoryAdapter {
    constructor(readonly model: string) {}
    private key(id: string): string {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
      entries.set(this.key(id), { model: this.model, payload, expiresAt });
    }
    async find(id: string): Promise<Record<string, unknown> | undefined> {
      return live(entries.get(this.key(id)))?.payload;
    }
    async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      return where(this.model, (payload) => payload.uid === uid);
    }
    async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
      return where(this.model, (payload) => payload.userCode === userCode);
    }
    async consume(id: string): Promise<void> {
      const entry = entries.get(this.key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string): Promise<void> {
      entries.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(key);
    }
  };
}

/**
 * `make()`, without the one warning `oidc-provider` prints when its development login and consent
 * pages are on: these tests want them on, and the line would be noise in every test run.
 */
function quietly<T>(make: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('devInteractions is enabled')) warn(...args);
  };
  try {
    return make();
  } finally {
    console.warn = warn;
  }
}

/** How `client` is registered at the provider (docs/providers.md shows the Basic one): as this server needs it. */
export function registration(client: OidcClient, redirectUri: string): Record<string, unknown> {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: client.auth,
  };
}

/** One signing key per process (RS256, what ID tokens are signed with unless a client asks otherwise). */
let signingKey: Record<string, unknown> | undefined;
function jwks(): { keys: Record<string, unknown>[] } {
  signingKey ??= {
    ...(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Record<
      string,
      unknown
    >),
    kid: 'test',
    use: 'sig',
  };
  return { keys: [signingKey] };
}

/**
 * Start `oidc-provider` on 127.0.0.1 with two confidential clients whose redirect URI is
 * `redirectUri` (this server's `{SERVER_URL}/device/callback`), both allowed the
 * authorization-code and refresh-token grants. Call `stop()` when done.
 */
export async function startOidcProvider(options: { redirectUri: string }): Promise<OidcProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clients = {
    basic: { clientId: 'cli-auth', clientSecret: BASIC_SECRET, auth: 'client_secret_basic' },
    post: {
      clientId: 'cli-auth-post',
      clientSecret: randomBytes(24).toString('base64url'),
      auth: 'client_secret_post',
    },
  } as const satisfies Record<string, OidcClient>;
  const accounts = new Map(OIDC_ACCOUNTS.map((account) => [account.id, account]));
  const entries = new Map<string, Entry>();

  const provider = quietly(
    () =>
      new Provider(issuer, {
        adapter: memoryAdapter(entries),
        jwks: jwks(),
        clients: Object.values(clients).map((client) => registration(client, options.redirectUri)),
        async findAccount(_ctx: unknown, sub: string) {
          const account = accounts.get(sub);
          if (!account) return undefined;
          return {
            accountId: sub,
            async claims() {
              return { sub, name: account.name, email: account.email, email_verified: true };
            },
          };
        },
        claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
        // RFC 7662's `username`, as many providers (Keycloak among them) put it in introspection.
        async extraTokenClaims(_ctx: unknown, token: { kind: string; accountId?: string }) {
          const account = token.accountId ? accounts.get(token.accountId) : undefined;
          return token.kind === 'AccessToken' && account ? { username: account.email } : undefined;
        },
        pkce: { required: () => true },
        features: {
          devInteractions: { enabled: true },
          introspection: { enabled: true, allowedPolicy: async () => true },
          revocation: {
            enabled: true,
            allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) =>
              token.clientId === client.clientId,
          },
        },
        clientBasedCORS: () => false,
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        ttl: {
          AccessToken: 3600,
          AuthorizationCode: 120,
          IdToken: 3600,
          RefreshToken: 86_400,
          Interaction: 600,
          Session: 3600,
          Grant: 86_400,
        },
      }),
  );

  // How each token request came (the provider takes either method from either client).
  const tokenRequests: TokenRequest[] = [];
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== '/token' || ctx.method !== 'POST') return;
    const body = ctx.oidc?.body ?? {};
    tokenRequests.push({
      grantType: typeof body.grant_type === 'string' ? body.grant_type : undefined,
      secretSent: /^Basic /i.test(ctx.headers.authorization ?? '')
        ? 'basic'
        : typeof body.client_secret === 'string'
          ? 'post'
          : 'none',
    });
  });

  const server: Server = createServer(provider.callback());
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen();
  if ((server.address() as AddressInfo).port !== port) throw new Error('oidc-provider listens elsewhere');

  const basicAuth = (client: OidcClient) =>
    `Basic ${Buffer.from(
      `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`.replaceAll(
        '%20',
        '+',
      ),
    ).toString('base64')}`;

  return {
    issuer,
    clients,
    accounts: OIDC_ACCOUNTS,
    async userinfo(accessToken) {
      const response = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    async revoke(token, hint, client = clients.basic) {
      const form = new URLSearchParams({ token, ...(hint ? { token_type_hint: hint } : {}) });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (client.auth === 'client_secret_basic') headers.authorization = basicAuth(client);
      else {
        form.set('client_id', client.clientId);
        form.set('client_secret', client.clientSecret);
      }
      const response = await fetch(`${issuer}/token/revocation`, { method: 'POST', headers, body: form });
      if (response.status !== 200)
        throw new Error(`revocation answered ${response.status}: ${await response.text()}`);
    },
    tokenRequests: () => [...tokenRequests],
    live(kind) {
      const now = Math.floor(Date.now() / 1000);
      return [...entries]
        .filter(([, entry]) => entry.model === kind && (entry.expiresAt ?? Infinity) > Date.now())
        .filter(
          ([, entry]) =>
            !entry.payload.consumed && ((entry.payload.exp as number | undefined) ?? Infinity) > now,
        )
        .map(([key]) => key.slice(kind.length + 1));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    start: listen,
  };
}

/**
 * A person at the provider, over HTTP: open `authorizeUrl` (an authorization request), log in as
 * `login` on its login page, then press Continue on its consent page (`approve`) or Cancel
 * (`deny`). Returns the provider's redirect back to the client (its `Location`, not followed).
 */
export async function authorizeAtProvider(
  authorizeUrl: string,
  login: string,
  decision: 'approve' | 'deny' = 'approve',
  walker = new Walker(),
): Promise<URL> {
  const { origin } = new URL(authorizeUrl);
  const atProvider = (page: Page) => page.location && new URL(page.location, page.url).origin === origin;
  let page = await walker.get(authorizeUrl);
  for (let step = 0; step < 10; step++) {
    if (page.location && !atProvider(page)) return new URL(page.location, page.url);
    if (page.location) {
      page = await walker.get(new URL(page.location, page.url).href);
      continue;
    }
    if (page.status !== 200)
      throw new Error(`the provider answered ${page.status}: ${page.body.slice(0, 800)}`);
    const form = formOf(page.body, page.url);
    if (form.fields.prompt === 'login') {
      page = await walker.post(form.action, { ...form.fields, login, password: 'any password' });
    } else if (form.fields.prompt === 'consent') {
      if (decision === 'deny') {
        const abort = page.body.match(/<a href="([^"]*\/abort)"/)?.[1];
        if (!abort) throw new Error(`no abort link on the consent page:\n${page.body.slice(0, 800)}`);
        page = await walker.get(new URL(abort, page.url).href);
      } else page = await walker.post(form.action, form.fields);
    } else throw new Error(`an unexpected page at the provider:\n${page.body.slice(0, 800)}`);
  }
  throw new Error('the provider never redirected back');
}

/** The scopes the tests ask for: an ID token, a refresh token, and the account's name and e-mail address. */
export const OIDC_SCOPES = 'openid offline_access profile email';

/**
 * The settings of this server bridging to `provider` with `client` (the Basic one by default, as
 * docs/providers.md shows them). OAUTH_CLIENT_AUTH only for `client_secret_post`: Basic is the
 * default the provider's metadata leads to.
 */
export function oauthSettings(
  provider: Pick<OidcProvider, 'issuer' | 'clients'>,
  client: OidcClient = provider.clients.basic,
): Record<string, string> {
  return {
    UPSTREAM: 'oauth',
    OAUTH_ISSUER: provider.issuer,
    OAUTH_CLIENT_ID: client.clientId,
    OAUTH_CLIENT_SECRET: client.clientSecret,
    ...(client.auth === 'client_secret_basic' ? {} : { OAUTH_CLIENT_AUTH: client.auth }),
    OAUTH_SCOPES: OIDC_SCOPES,
    OAUTH_PROVIDER_NAME: 'Example',
    OAUTH_CLIENT_NAME: 'Example CLI',
    OAUTH_LOGIN_COMMAND: 'example login',
  };
}

export interface OAuthE2eServer {
  /** `http://127.0.0.1:<port>`: both the listening address and SERVER_URL. */
  url: string;
  config: Config;
  server: RunningServer;
  provider: OidcProvider;
}

/**
 * A real listening server on `store`, bridging to a listening `oidc-provider` whose clients are
 * registered for its callback (its port is chosen first, so the redirect URI is known); both
 * closed after the test. `env` adds or overrides settings.
 */
export async function startOAuthE2eServer(
  t: TestContext,
  store: Store,
  env: Record<string, string> = {},
): Promise<OAuthE2eServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const provider = await startOidcProvider({ redirectUri: `${url}/device/callback` });
  defer(t, () => provider.stop());
  const config = testConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    SERVER_URL: url,
    ...oauthSettings(provider),
    ...env,
  });
  const server = await startServer(config, {
    logger: createLogger({ level: 'silent', format: 'json' }),
    store,
  });
  defer(t, () => server.close());
  return { url, config, server, provider };
}

/**
 * A login through `upstream` (a profile bridging to the provider) without this server: its
 * authorization URL with a PKCE challenge, the person at the provider over HTTP as `login`,
 * then the profile's exchange of the code. The grant, and the code (spent).
 */
export async function loginThrough(
  upstream: Upstream,
  redirectUri: string,
  login: string = OIDC_ACCOUNTS[0]!.id,
): Promise<{ grant: Grant; code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const back = await authorizeAtProvider(
    upstream.authorizeUrl({ state: 'state', codeChallenge: codeChallenge(verifier), redirectUri }),
    login,
  );
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`the provider sent no code: ${back.href}`);
  const grant = await upstream.exchangeCode({ code, codeVerifier: verifier, redirectUri });
  return { grant, code, verifier };
}
