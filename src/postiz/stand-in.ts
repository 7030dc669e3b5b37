/**
 * A local stand-in for Postiz's OAuth provider (frontend consent page and API), used by the demo and
 * the tests. It follows docs/postiz.md and, where that is silent, the Postiz sources:
 * one authorization per (app, user, organisation) holding at most one live code and one live token,
 * so approving again replaces both.
 */
import { createHash, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { type ServerResponse, STATUS_CODES } from 'node:http';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';

/** An OAuth app registered at the stand-in. */
export interface StandInClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  name: string;
}

/** How to build a stand-in. */
export interface StandInOptions {
  /** Registered OAuth apps: `pca_…` ids ignore redirect_uri/PKCE; `pcd_…` ids require PKCE S256 and a matching redirect_uri. */
  clients: StandInClient[];
  /** The Postiz user who is "logged in"; defaults to a demo user in an organisation with a random uuid. */
  user?: { name: string; organizationId: string };
  /** Lifetime of authorization codes; 10 minutes by default, as at Postiz. */
  codeTtlMs?: number;
  /** The organisation's channels, as `GET /public/v1/integrations` lists them; one demo channel by default. */
  integrations?: StandInIntegration[];
  /** Clock used for code expiry; Date.now by default. */
  now?: () => number;
  /** Fastify's logger option; off by default. */
  logger?: boolean | object;
}

/** A connected channel of the organisation, as Postiz's public API lists it. */
export interface StandInIntegration {
  id: string;
  name: string;
  identifier: string;
  picture: string;
  disabled: boolean;
  profile: string;
  customer: { id: string; name: string } | null;
}

/** A failure the next token exchange(s) answer with, to exercise the caller's error handling. */
export type StandInFault = 'server-error' | 'hang' | 'malformed-json' | 'no-access-token' | 'invalid-client';

/** A running (or ready to run) stand-in. */
export interface StandIn {
  /** The Fastify app; usable with `app.inject` before `listen`. */
  app: FastifyInstance;
  /** Starts listening (default port 0 on 127.0.0.1) and returns the base URL, e.g. `http://127.0.0.1:PORT`. */
  listen(port?: number, host?: string): Promise<string>;
  /** The base URL once listening. */
  url: string | undefined;
  /** Stops the server, cutting off any request left hanging by a 'hang' fault first. */
  close(): Promise<void>;
  /** Makes the next `count` (default 1) `POST /oauth/token` requests answer with `fault`. */
  failNext(fault: StandInFault, count?: number): void;
  /** Every access token minted so far, oldest first (revoked ones included). */
  issuedTokens(): string[];
  /** Whether `token` is currently accepted by the public API. */
  isValid(token: string): boolean;
  /**
   * The user's answer on the consent page of `authorizeUrl` (an `/oauth/authorize?…` URL):
   * the page must render, then Authorize (`approve`) or Deny is pressed. Returns where Postiz
   * sends the browser back (the client's redirect URI with `code` or `error`, and `state`).
   * For tests and scripts that drive a login without a browser.
   */
  decide(authorizeUrl: string | URL, decision: 'approve' | 'deny'): Promise<URL>;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DEFAULT_CODE_TTL_MS = 10 * 60 * 1000;
const GRANTED_SCOPE = 'mcp:read mcp:write';

/** One approval of an app by a user for an organisation (Postiz's OAuthAuthorization row). */
interface Authorization {
  clientId: string;
  code: string | null;
  codeIssuedAt: number;
  /** Bound only for `pcd_` apps. */
  codeChallenge: string | null;
  redirectUri: string | null;
  accessToken: string | null;
}

/** The authorize parameters, as read from the query string or the consent form. */
interface AuthorizeParams {
  clientId: string;
  responseType: string;
  state: string;
  redirectUri: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  scope: string;
}

type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

interface TokenRequest {
  grantType: string;
  code: string;
  clientId: string;
  clientSecret: string;
  codeVerifier: string | undefined;
  redirectUri: string | undefined;
}

/** An OAuth error answer of the token endpoint. */
interface TokenError {
  status: number;
  body: { error: string; error_description?: string };
}

/** `length` random letters and digits, as Postiz's makeId produces. */
function randomAlphanumeric(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

/** Escapes text for use in HTML content and double-quoted attributes. */
function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Compares secrets without leaking, through timing, how much of them matched. */
function secretsMatch(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, which timingSafeEqual needs, without revealing the real length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function isDynamicClient(clientId: string): boolean {
  return clientId.startsWith('pcd_');
}

/** A value from a query string or form, or '' when absent or repeated (repeats are not a valid request). */
function stringField(source: unknown, name: string): string {
  if (typeof source !== 'object' || source === null) return '';
  const value = (source as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

function readAuthorizeParams(source: unknown): AuthorizeParams {
  return {
    clientId: stringField(source, 'client_id'),
    responseType: stringField(source, 'response_type'),
    state: stringField(source, 'state'),
    redirectUri: stringField(source, 'redirect_uri'),
    codeChallenge: stringField(source, 'code_challenge'),
    codeChallengeMethod: stringField(source, 'code_challenge_method'),
    scope: stringField(source, 'scope'),
  };
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; }
.note { font-size: 0.9rem; color: #555; border-left: 3px solid #c90; padding-left: 0.75rem; }
button { font-size: 1rem; padding: 0.5rem 1.25rem; margin-right: 0.5rem; }
</style>
</head>
<body>
${body}
<p class="note">This is the local Postiz stand-in used for demos and tests, not the real Postiz.</p>
</body>
</html>
`;
}

function errorPage(message: string): string {
  return page('Authorization error', `<h1>Authorization error</h1>\n<p>${escapeHtml(message)}</p>`);
}

function hiddenInput(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

function consentPage(
  client: StandInClient,
  params: AuthorizeParams,
  user: { name: string; organizationId: string },
) {
  const fields: Array<[string, string]> = [
    ['client_id', params.clientId],
    ['response_type', params.responseType],
    ['state', params.state],
    ['redirect_uri', params.redirectUri],
    ['code_challenge', params.codeChallenge],
    ['code_challenge_method', params.codeChallengeMethod],
    ['scope', params.scope],
  ];
  const hidden = fields
    .filter(([, value]) => value !== '')
    .map(([name, value]) => hiddenInput(name, value))
    .join('\n');
  const scopeLine = params.scope ? `<p>Requested scope: <code>${escapeHtml(params.scope)}</code></p>\n` : '';
  return page(
    `Authorize ${client.name}`,
    `<h1>Authorize ${escapeHtml(client.name)}</h1>
<p><strong>${escapeHtml(client.name)}</strong> wants access to your Postiz account.</p>
<p>Signed in as <strong>${escapeHtml(user.name)}</strong>, organisation <code>${escapeHtml(user.organizationId)}</code>.</p>
${scopeLine}<form method="post" action="/oauth/authorize">
${hidden}
<button type="submit" name="action" value="approve">Authorize</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>`,
  );
}

/** The registered redirect URL with `extra` set on it, keeping its own query parameters. */
function redirectTo(registered: string, extra: Record<string, string>, state: string): string {
  const url = new URL(registered);
  for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
  // Postiz adds state only when there is one.
  if (state) url.searchParams.set('state', state);
  return url.toString();
}

/** Mirrors NestJS's class-validator messages for Postiz's TokenExchangeDto. */
function validateTokenBody(
  body: unknown,
): { ok: true; value: TokenRequest } | { ok: false; messages: string[] } {
  const source: Record<string, unknown> =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  const messages: string[] = [];
  for (const name of ['grant_type', 'code', 'client_id', 'client_secret']) {
    const value = source[name];
    if (value === undefined || value === null) messages.push(`${name} should not be null or undefined`);
    if (typeof value !== 'string') messages.push(`${name} must be a string`);
  }
  for (const name of ['code_verifier', 'redirect_uri']) {
    const value = source[name];
    if (value !== undefined && typeof value !== 'string') messages.push(`${name} must be a string`);
  }
  if (messages.length > 0) return { ok: false, messages };
  return {
    ok: true,
    value: {
      grantType: source.grant_type as string,
      code: source.code as string,
      clientId: source.client_id as string,
      clientSecret: source.client_secret as string,
      codeVerifier: source.code_verifier as string | undefined,
      redirectUri: source.redirect_uri as string | undefined,
    },
  };
}

function invalidGrant(description?: string): TokenError {
  return {
    status: 400,
    body: description
      ? { error: 'invalid_grant', error_description: description }
      : { error: 'invalid_grant' },
  };
}

/** Checks a `pcd_` app's verifier and redirect_uri against what the code was bound to. */
function checkPkce(auth: Authorization, request: TokenRequest): TokenError | null {
  if (auth.codeChallenge === null) return null;
  if (!request.codeVerifier) return invalidGrant('code_verifier is required');
  if (!secretsMatch(s256(request.codeVerifier), auth.codeChallenge)) {
    return invalidGrant('Invalid code_verifier');
  }
  if (request.redirectUri !== auth.redirectUri) return invalidGrant('redirect_uri does not match');
  return null;
}

function validateClients(clients: StandInClient[]): Map<string, StandInClient> {
  const byId = new Map<string, StandInClient>();
  for (const client of clients) {
    if (byId.has(client.clientId)) {
      throw new TypeError(`Postiz stand-in: client ${client.clientId} is listed twice`);
    }
    if (!URL.canParse(client.redirectUri)) {
      throw new TypeError(`Postiz stand-in: client ${client.clientId} has an invalid redirectUri`);
    }
    byId.set(client.clientId, { ...client });
  }
  return byId;
}

function baseUrl(address: string | { address: string; port: number } | null): string {
  if (address === null || typeof address === 'string') {
    throw new Error('Postiz stand-in is not listening on TCP');
  }
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** Creates a Postiz stand-in; nothing listens until `listen()` is called. */
export function createStandIn(options: StandInOptions): StandIn {
  const clients = validateClients(options.clients);
  const user = options.user ?? { name: 'Demo User', organizationId: randomUUID() };
  // Postiz keys authorizations by user id, which the options do not expose: one fixed id stands for the user.
  const userId = randomUUID();
  const codeTtlMs = options.codeTtlMs ?? DEFAULT_CODE_TTL_MS;
  const integrations = options.integrations ?? [
    {
      id: randomUUID(),
      name: `${user.name}'s channel`,
      identifier: 'x',
      picture: '',
      disabled: false,
      profile: 'demo',
      customer: null,
    },
  ];
  const now = options.now ?? Date.now;

  const authorizations = new Map<string, Authorization>(); // by client, user and organisation
  const byCode = new Map<string, Authorization>();
  const byToken = new Map<string, Authorization>();
  const issued: string[] = [];
  const faults: StandInFault[] = [];
  const hanging = new Set<ServerResponse>();
  let url: string | undefined;
  let closing: Promise<void> | undefined;

  const app = Fastify({
    logger: (options.logger ?? false) as FastifyServerOptions['logger'],
  }) as unknown as FastifyInstance;

  app.register(formbody);

  // NestJS (body-parser) reads an empty JSON body as {}, so its validation messages answer, not a parse error.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('Unexpected token in JSON'), { statusCode: 400 }), undefined);
    }
  });

  // Every JSON error is shaped like NestJS's, which is what Postiz's API answers with.
  app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) return reply.code(500).send({ statusCode: 500, message: 'Internal server error' });
    return reply
      .code(status)
      .send({ statusCode: status, message: error.message, error: STATUS_CODES[status] });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      message: `Cannot ${request.method} ${request.url.split('?')[0]}`,
      error: 'Not Found',
      statusCode: 404,
    }),
  );

  function checkAuthorizeRequest(
    params: AuthorizeParams,
    requireResponseType: boolean,
  ): Checked<StandInClient> {
    if (!params.clientId) return { ok: false, message: 'Missing client_id.' };
    if (requireResponseType && params.responseType !== 'code') {
      return { ok: false, message: 'Unsupported response_type: only "code" is supported.' };
    }
    const client = clients.get(params.clientId);
    if (!client) return { ok: false, message: 'Invalid client_id.' };
    if (isDynamicClient(client.clientId)) {
      if (params.redirectUri !== client.redirectUri) return { ok: false, message: 'Invalid redirect_uri.' };
      if (!params.codeChallenge) return { ok: false, message: 'code_challenge is required.' };
      if (params.codeChallengeMethod !== 'S256') {
        return { ok: false, message: 'Only the S256 code_challenge_method is supported.' };
      }
    }
    return { ok: true, value: client };
  }

  function sendErrorPage(reply: FastifyReply, message: string) {
    return reply.code(400).type('text/html; charset=utf-8').send(errorPage(message));
  }

  /** Replaces any earlier authorization of this app for this user and organisation, as Postiz's upsert does. */
  function approve(client: StandInClient, params: AuthorizeParams): string {
    const key = `${client.clientId}\n${userId}\n${user.organizationId}`;
    const previous = authorizations.get(key);
    if (previous?.code) byCode.delete(previous.code);
    // The earlier token stops working at once, not when the new code is exchanged.
    if (previous?.accessToken) byToken.delete(previous.accessToken);
    const dynamic = isDynamicClient(client.clientId);
    const code = randomAlphanumeric(32);
    const auth: Authorization = {
      clientId: client.clientId,
      code,
      codeIssuedAt: now(),
      codeChallenge: dynamic ? params.codeChallenge : null,
      redirectUri: dynamic ? params.redirectUri : null,
      accessToken: null,
    };
    authorizations.set(key, auth);
    byCode.set(code, auth);
    return code;
  }

  app.get('/oauth/authorize', async (request, reply) => {
    const params = readAuthorizeParams(request.query);
    const checked = checkAuthorizeRequest(params, true);
    if (!checked.ok) return sendErrorPage(reply, checked.message);
    return reply.type('text/html; charset=utf-8').send(consentPage(checked.value, params, user));
  });

  app.post('/oauth/authorize', async (request, reply) => {
    const params = readAuthorizeParams(request.body);
    // Postiz's approve endpoint does not take response_type; the consent page checked it already.
    const checked = checkAuthorizeRequest(params, false);
    if (!checked.ok) return sendErrorPage(reply, checked.message);
    const client = checked.value;
    const action = stringField(request.body, 'action');
    if (action === 'deny') {
      return reply.redirect(redirectTo(client.redirectUri, { error: 'access_denied' }, params.state), 302);
    }
    if (action !== 'approve') return sendErrorPage(reply, 'Choose Authorize or Deny.');
    const code = approve(client, params);
    return reply.redirect(redirectTo(client.redirectUri, { code }, params.state), 302);
  });

  function exchange(request: TokenRequest): TokenError | { status: 201; body: Record<string, unknown> } {
    if (request.grantType !== 'authorization_code') {
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    }
    const client = clients.get(request.clientId);
    if (!client || !secretsMatch(request.clientSecret, client.clientSecret)) {
      return { status: 401, body: { error: 'invalid_client' } };
    }
    const auth = byCode.get(request.code);
    if (!auth || auth.clientId !== client.clientId) return invalidGrant();
    // Single use: a presented code is gone whatever happens next.
    byCode.delete(request.code);
    auth.code = null;
    if (now() > auth.codeIssuedAt + codeTtlMs) return invalidGrant('Code has expired');
    const pkceError = checkPkce(auth, request);
    if (pkceError) return pkceError;
    const token = `pos_${randomAlphanumeric(40)}`;
    auth.accessToken = token;
    byToken.set(token, auth);
    issued.push(token);
    return {
      status: 201,
      body: {
        id: user.organizationId,
        cus: null,
        access_token: token,
        token_type: 'bearer',
        scope: GRANTED_SCOPE,
      },
    };
  }

  function answerWithFault(fault: StandInFault, reply: FastifyReply) {
    switch (fault) {
      case 'server-error':
        return reply.code(500).send({ statusCode: 500, message: 'Internal server error' });
      case 'malformed-json':
        return reply.code(201).type('application/json; charset=utf-8').send('{"access_token": ');
      case 'no-access-token':
        return reply.code(201).send({ id: user.organizationId, token_type: 'bearer' });
      case 'invalid-client':
        return reply.code(401).send({ error: 'invalid_client' });
      case 'hang':
        // Taken out of Fastify's hands so nothing ever answers; close() cuts the connection.
        reply.hijack();
        hanging.add(reply.raw);
        reply.raw.once('close', () => hanging.delete(reply.raw));
        return reply;
    }
  }

  app.post('/oauth/token', async (request, reply) => {
    const fault = faults.shift();
    if (fault) return answerWithFault(fault, reply);
    const checked = validateTokenBody(request.body);
    if (!checked.ok) {
      return reply.code(400).send({ statusCode: 400, message: checked.messages, error: 'Bad Request' });
    }
    const result = exchange(checked.value);
    return reply.code(result.status).send(result.body);
  });

  /**
   * The public API's authentication: the token raw in `Authorization`; with a "Bearer " prefix
   * it is looked up as an API key and fails. Answers 401 (and returns false) when it fails.
   */
  function authenticated(authorization: string | undefined, reply: FastifyReply): boolean {
    const refusal = !authorization
      ? 'No API Key found'
      : !authorization.startsWith('pos_')
        ? 'Invalid API key'
        : !byToken.has(authorization)
          ? 'Invalid OAuth token'
          : undefined;
    if (refusal) reply.code(401).send({ msg: refusal });
    return refusal === undefined;
  }

  app.get('/public/v1/is-connected', async (request, reply) => {
    if (!authenticated(request.headers.authorization, reply)) return reply;
    return reply.send({ connected: true });
  });

  // What `postiz auth:status` asks to check its credentials: the organisation's channels.
  app.get('/public/v1/integrations', async (request, reply) => {
    if (!authenticated(request.headers.authorization, reply)) return reply;
    return reply.send(integrations);
  });

  async function close(): Promise<void> {
    closing ??= (async () => {
      for (const response of hanging) response.destroy();
      hanging.clear();
      await app.close();
      url = undefined;
    })();
    return closing;
  }

  return {
    app,
    get url() {
      return url;
    },
    async listen(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      url = baseUrl(app.server.address());
      return url;
    },
    close,
    failNext(fault, count = 1) {
      if (!Number.isInteger(count) || count < 1) {
        throw new RangeError('failNext: count must be a positive integer');
      }
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    issuedTokens: () => [...issued],
    isValid: (token) => byToken.has(token),
    async decide(authorizeUrl, decision) {
      const url = new URL(authorizeUrl);
      const page = await app.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
      if (page.statusCode !== 200)
        throw new Error(`the consent page answered ${page.statusCode}: ${page.body}`);
      // The consent form carries the authorize parameters back, as hidden fields.
      const form = new URLSearchParams(url.search);
      form.set('action', decision);
      const decided = await app.inject({
        method: 'POST',
        url: '/oauth/authorize',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form.toString(),
      });
      const location = decided.headers.location;
      if (decided.statusCode !== 302 || typeof location !== 'string') {
        throw new Error(`the consent form answered ${decided.statusCode}: ${decided.body}`);
      }
      return new URL(location);
    },
  };
}
