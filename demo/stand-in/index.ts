/**
 * A local stand-in for Postiz's OAuth provider (frontend consent page and API), used by the
 * demo and the tests, never by `serve`. It follows docs/postiz.md and, where that is silent,
 * the Postiz sources: one authorization per (app, user, organisation) holding at most one live
 * code and one live token, so approving again replaces both. The consent page can switch
 * between the user's organisations (standing in for Postiz's organisation menu), one of which
 * may have no subscription, so the demo shows what that does to a login.
 *
 * Its parts: `state.ts` (what Postiz knows), `authorize.ts` (the consent page), `token.ts`
 * (the exchange, and faults), `public-api.ts` (the public API), `pages.ts`.
 */
import { randomUUID } from 'node:crypto';
import { type ServerResponse, STATUS_CODES } from 'node:http';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { authorizeRoutes } from './authorize.js';
import { publicApiRoutes, type StandInIntegration, type StandInPublicFault } from './public-api.js';
import { PostizState, type StandInClient, type StandInOrganization } from './state.js';
import { type StandInFault, tokenRoute } from './token.js';

export type { StandInIntegration, StandInPublicFault } from './public-api.js';
export type { StandInClient, StandInOrganization } from './state.js';
export type { StandInFault } from './token.js';

/** How to build a stand-in. */
export interface StandInOptions {
  /** Registered OAuth apps: `pca_…` ids ignore redirect_uri/PKCE; `pcd_…` ids require PKCE S256 and a matching redirect_uri. */
  clients: StandInClient[];
  /**
   * The Postiz user who is "logged in", and the organisation selected in Postiz; defaults to a
   * demo user in an organisation with a random uuid.
   */
  user?: { name: string; organizationId: string; organizationName?: string };
  /** Further organisations of the user, selectable on the consent page. */
  organizations?: StandInOrganization[];
  /**
   * Other people in the same organisations, each with an account of their own: the consent page
   * can switch to them (as if they used this browser), and `decide` takes one by name.
   */
  members?: string[];
  /** Lifetime of authorization codes; 10 minutes by default, as at Postiz. */
  codeTtlMs?: number;
  /** The organisation's channels, as `GET /public/v1/integrations` lists them; one demo channel by default. */
  integrations?: StandInIntegration[];
  /** Clock used for code expiry; Date.now by default. */
  now?: () => number;
  /** Fastify's logger option; off by default. */
  logger?: boolean | object;
}

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
  /** Makes the next `count` (default 1) public API requests answer with `fault` (Postiz down, or slow). */
  failNextPublic(fault: StandInPublicFault, count?: number): void;
  /** Every access token minted so far, oldest first (revoked ones included). */
  issuedTokens(): string[];
  /** The members' ids by name (what the consent form's `member` field takes). */
  memberIds: Map<string, string>;
  /** Whether `token` is currently a live token (whatever its organisation's subscription). */
  isValid(token: string): boolean;
  /**
   * The user's answer on the consent page of `authorizeUrl` (an `/oauth/authorize?…` URL):
   * the page must render, then Authorize (`approve`) or Deny is pressed, for `organization`
   * (an id; the selected one by default). Returns where Postiz sends the browser back (the
   * client's redirect URI with `code` or `error`, and `state`). For tests and scripts that
   * drive a login without a browser.
   */
  decide(authorizeUrl: string | URL, decision: 'approve' | 'deny', at?: AtPostiz): Promise<URL>;
}

/**
 * Who decides at Postiz: an organisation id (the selected one by default), or that and a member's
 * name (the user by default).
 */
export type AtPostiz = string | { organization?: string; member?: string };

/** The consent form's fields for `at`. */
export function consentChoice(
  at: AtPostiz | undefined,
  members: Map<string, string>,
): Record<string, string> {
  const { organization, member } =
    typeof at === 'string' ? { organization: at, member: undefined } : (at ?? {});
  const out: Record<string, string> = {};
  if (organization) out.organization = organization;
  if (member) {
    const id = members.get(member);
    if (!id) throw new Error(`the stand-in has no member named ${member}`);
    out.member = id;
  }
  return out;
}

const DEFAULT_CODE_TTL_MS = 10 * 60 * 1000;

function baseUrl(address: string | { address: string; port: number } | null): string {
  if (address === null || typeof address === 'string') {
    throw new Error('Postiz stand-in is not listening on TCP');
  }
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** A queue of faults to answer with, `count` at a time. */
function faultQueue<T>(): { push: (fault: T, count: number) => void; next: () => T | undefined } {
  const queue: T[] = [];
  return {
    push(fault, count) {
      if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer');
      for (let i = 0; i < count; i++) queue.push(fault);
    },
    next: () => queue.shift(),
  };
}

/** Creates a Postiz stand-in; nothing listens until `listen()` is called. */
export function createStandIn(options: StandInOptions): StandIn {
  const user = options.user ?? { name: 'Demo User', organizationId: randomUUID() };
  const current: StandInOrganization = {
    id: user.organizationId,
    name: user.organizationName ?? `${user.name}'s organisation`,
  };
  // Postiz keys authorizations by user id, which the options do not expose: one fixed id stands for the user.
  const members = (options.members ?? []).map((name) => ({ name, id: randomUUID() }));
  const postiz = new PostizState(
    options.clients,
    { name: user.name, id: randomUUID() },
    [current, ...(options.organizations ?? [])],
    options.codeTtlMs ?? DEFAULT_CODE_TTL_MS,
    options.now ?? Date.now,
    members,
  );
  const memberIds = new Map(members.map((m) => [m.name, m.id]));
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
  const tokenFaults = faultQueue<StandInFault>();
  const publicFaults = faultQueue<StandInPublicFault>();
  const hanging = new Set<ServerResponse>();
  let url: string | undefined;
  let closing: Promise<void> | undefined;

  const app = Fastify({
    logger: (options.logger ?? false) as FastifyServerOptions['logger'],
    // Closing cuts every connection: a request left hanging by a fault, once its client gave
    // up, leaves a half-open socket that an ordinary close waits out (70 s, seen in tests).
    forceCloseConnections: true,
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

  authorizeRoutes(app, postiz);
  tokenRoute(app, postiz, tokenFaults.next, hanging);
  publicApiRoutes(app, postiz, integrations, publicFaults.next, hanging);

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
    failNext: (fault, count = 1) => tokenFaults.push(fault, count),
    failNextPublic: (fault, count = 1) => publicFaults.push(fault, count),
    issuedTokens: () => [...postiz.issued],
    isValid: (token) => postiz.tokenOrganization(token) !== undefined,
    memberIds,
    async decide(authorizeUrl, decision, at) {
      const consentUrl = new URL(authorizeUrl);
      const page = await app.inject({ method: 'GET', url: `${consentUrl.pathname}${consentUrl.search}` });
      if (page.statusCode !== 200)
        throw new Error(`the consent page answered ${page.statusCode}: ${page.body}`);
      // The consent form carries the authorize parameters back, as hidden fields.
      const form = new URLSearchParams(consentUrl.search);
      form.set('action', decision);
      for (const [name, value] of Object.entries(consentChoice(at, memberIds))) form.set(name, value);
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
