/**
 * What the stand-in's Postiz knows: the registered apps, the logged-in user and their
 * organisations, and the authorizations (one per app, user and organisation, holding at most
 * one live code and one live token, so approving again replaces both, as at Postiz).
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/** An OAuth app registered at the stand-in. */
export interface StandInClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  name: string;
}

/** An organisation of the logged-in user. */
export interface StandInOrganization {
  id: string;
  name: string;
  /**
   * Whether it has a subscription (default true). Where Postiz has billing on, the public API
   * refuses the tokens of an organisation without one: 401 `{"msg":"No subscription found"}`.
   */
  subscribed?: boolean;
}

/** The authorize parameters, as read from the query string or the consent form. */
export interface AuthorizeParams {
  clientId: string;
  responseType: string;
  state: string;
  redirectUri: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  scope: string;
  /** The organisation chosen on the consent page (as if switched in Postiz); empty: the current one. */
  organization: string;
  /** The member signed in, chosen on the consent page (as if another person used this browser); empty: the user. */
  member: string;
}

/** A person with a Postiz account, member of every organisation of the stand-in. */
export interface StandInUser {
  name: string;
  id: string;
}

/** A token request's fields, once validated. */
export interface TokenRequest {
  grantType: string;
  code: string;
  clientId: string;
  clientSecret: string;
  codeVerifier: string | undefined;
  redirectUri: string | undefined;
}

/** An OAuth error answer of the token endpoint. */
export interface TokenError {
  status: number;
  body: { error: string; error_description?: string };
}

/** One approval of an app by a user for an organisation (Postiz's OAuthAuthorization row). */
interface Authorization {
  clientId: string;
  organization: StandInOrganization;
  code: string | null;
  codeIssuedAt: number;
  /** Bound only for `pcd_` apps. */
  codeChallenge: string | null;
  redirectUri: string | null;
  accessToken: string | null;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const GRANTED_SCOPE = 'mcp:read mcp:write';

/** `length` random letters and digits, as Postiz's makeId produces. */
function randomAlphanumeric(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

/** Compares secrets without leaking, through timing, how much of them matched. */
function secretsMatch(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, which timingSafeEqual needs, without revealing the real length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

/** Whether an app was made by dynamic client registration (PKCE and redirect_uri enforced). */
export function isDynamicClient(clientId: string): boolean {
  return clientId.startsWith('pcd_');
}

function invalidGrant(description?: string): TokenError {
  return {
    status: 400,
    body: description
      ? { error: 'invalid_grant', error_description: description }
      : { error: 'invalid_grant' },
  };
}

/**
 * Postiz's side of things, for one logged-in user, and optionally other members of the same
 * organisations (each signed in by choosing them on the consent page, standing in for another
 * person's browser session).
 */
export class PostizState {
  readonly clients: Map<string, StandInClient>;
  /** Every access token minted so far, oldest first (revoked ones included). */
  readonly issued: string[] = [];
  private readonly authorizations = new Map<string, Authorization>();
  private readonly byCode = new Map<string, Authorization>();
  private readonly byToken = new Map<string, Authorization>();

  constructor(
    clients: StandInClient[],
    readonly user: StandInUser,
    /** The user's organisations; the first is the one currently selected. */
    readonly organizations: StandInOrganization[],
    private readonly codeTtlMs: number,
    private readonly now: () => number,
    /** Other members of the same organisations. */
    readonly members: StandInUser[] = [],
  ) {
    this.clients = new Map();
    for (const client of clients) {
      if (this.clients.has(client.clientId)) {
        throw new TypeError(`Postiz stand-in: client ${client.clientId} is listed twice`);
      }
      if (!URL.canParse(client.redirectUri)) {
        throw new TypeError(`Postiz stand-in: client ${client.clientId} has an invalid redirectUri`);
      }
      this.clients.set(client.clientId, { ...client });
    }
  }

  /** The organisation a consent form names, or the one currently selected. */
  organization(id: string): StandInOrganization | undefined {
    return id === '' ? this.organizations[0] : this.organizations.find((o) => o.id === id);
  }

  /** The person a consent form names (a member's id), or the user. */
  person(id: string): StandInUser | undefined {
    return id === '' || id === this.user.id ? this.user : this.members.find((m) => m.id === id);
  }

  /**
   * Replaces any earlier authorization of this app for this person and organisation, as Postiz's
   * upsert does (another member's authorization is untouched).
   */
  approve(
    client: StandInClient,
    params: AuthorizeParams,
    organization: StandInOrganization,
    person: StandInUser = this.user,
  ): string {
    const key = `${client.clientId}\n${person.id}\n${organization.id}`;
    const previous = this.authorizations.get(key);
    if (previous?.code) this.byCode.delete(previous.code);
    // The earlier token stops working at once, not when the new code is exchanged.
    if (previous?.accessToken) this.byToken.delete(previous.accessToken);
    const dynamic = isDynamicClient(client.clientId);
    const code = randomAlphanumeric(32);
    const auth: Authorization = {
      clientId: client.clientId,
      organization,
      code,
      codeIssuedAt: this.now(),
      codeChallenge: dynamic ? params.codeChallenge : null,
      redirectUri: dynamic ? params.redirectUri : null,
      accessToken: null,
    };
    this.authorizations.set(key, auth);
    this.byCode.set(code, auth);
    return code;
  }

  /** `POST /oauth/token` with a valid body: the token answer, or the OAuth error. */
  exchange(request: TokenRequest): TokenError | { status: 201; body: Record<string, unknown> } {
    if (request.grantType !== 'authorization_code') {
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    }
    const client = this.clients.get(request.clientId);
    if (!client || !secretsMatch(request.clientSecret, client.clientSecret)) {
      return { status: 401, body: { error: 'invalid_client' } };
    }
    const auth = this.byCode.get(request.code);
    if (!auth || auth.clientId !== client.clientId) return invalidGrant();
    // Single use: a presented code is gone whatever happens next.
    this.byCode.delete(request.code);
    auth.code = null;
    if (this.now() > auth.codeIssuedAt + this.codeTtlMs) return invalidGrant('Code has expired');
    const pkceError = checkPkce(auth, request);
    if (pkceError) return pkceError;
    const token = `pos_${randomAlphanumeric(40)}`;
    auth.accessToken = token;
    this.byToken.set(token, auth);
    this.issued.push(token);
    return {
      status: 201,
      body: {
        id: auth.organization.id,
        cus: null,
        access_token: token,
        token_type: 'bearer',
        scope: GRANTED_SCOPE,
      },
    };
  }

  /** The organisation a live token belongs to. */
  tokenOrganization(token: string): StandInOrganization | undefined {
    return this.byToken.get(token)?.organization;
  }
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
