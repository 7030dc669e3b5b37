/**
 * The authorize page, in the user's browser (docs/postiz.md, "The authorize page"):
 * `GET /oauth/authorize` shows the consent page, its form posts the decision, and Postiz
 * redirects to the app's registered URL with a code or `error=access_denied`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { consentPage, errorPage } from './pages.js';
import { type AuthorizeParams, isDynamicClient, type PostizState, type StandInClient } from './state.js';

type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** A value from a query string or form, or '' when absent or repeated (repeats are not a valid request). */
export function stringField(source: unknown, name: string): string {
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
    organization: stringField(source, 'organization'),
    member: stringField(source, 'member'),
  };
}

/** The registered redirect URL with `extra` set on it, keeping its own query parameters. */
function redirectTo(registered: string, extra: Record<string, string>, state: string): string {
  const url = new URL(registered);
  for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
  // Postiz adds state only when there is one.
  if (state) url.searchParams.set('state', state);
  return url.toString();
}

/** Register the authorize page and its decision. */
export function authorizeRoutes(app: FastifyInstance, postiz: PostizState): void {
  function checkAuthorizeRequest(
    params: AuthorizeParams,
    requireResponseType: boolean,
  ): Checked<StandInClient> {
    if (!params.clientId) return { ok: false, message: 'Missing client_id.' };
    if (requireResponseType && params.responseType !== 'code') {
      return { ok: false, message: 'Unsupported response_type: only "code" is supported.' };
    }
    const client = postiz.clients.get(params.clientId);
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

  const sendErrorPage = (reply: FastifyReply, message: string) =>
    reply.code(400).type('text/html; charset=utf-8').send(errorPage(message));

  app.get('/oauth/authorize', async (request, reply) => {
    const params = readAuthorizeParams(request.query);
    const checked = checkAuthorizeRequest(params, true);
    if (!checked.ok) return sendErrorPage(reply, checked.message);
    return reply
      .type('text/html; charset=utf-8')
      .send(consentPage(checked.value, params, [postiz.user, ...postiz.members], postiz.organizations));
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
    const organization = postiz.organization(params.organization);
    if (!organization) return sendErrorPage(reply, 'Unknown organisation.');
    const person = postiz.person(params.member);
    if (!person) return sendErrorPage(reply, 'Unknown member.');
    const code = postiz.approve(client, params, organization, person);
    return reply.redirect(redirectTo(client.redirectUri, { code }, params.state), 302);
  });
}
